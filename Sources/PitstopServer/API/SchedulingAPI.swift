// `/api/v1` for maintenance: plans and campaigns, what is coming, `check`, the lifecycle of
// events and waves; and the audit log, its verification, reports and notices. Each handler
// reads its request, calls the use case the CLI calls, and answers with the CLI's JSON shape.
import Hummingbird
import PitstopCore
import PitstopService

enum SchedulingAPI {
    static let operations: [APIOperation] = [plan, listCampaigns, showCampaign, cancelCampaign, upcoming, check, showEvent]
        + Transition.allCases.map(eventTransition) + Transition.allCases.map(waveTransition)

    // MARK: Plans and campaigns

    static let plan = APIOperation(
        .post, "/api/v1/campaigns", id: "planCampaign",
        summary: "Plan a campaign into pair-safe events, with notices and an audit entry (`pitstop plan`); `dryRun=true` writes nothing.",
        tag: "campaigns", role: .operator,
        parameters: [.query("dryRun", "Plan and answer, but write nothing.", schema: .boolean())],
        body: .json(.record([
            ("kind", .string(values: ResponseSchemas.kinds)),
            ("regions", .array(.name, description: "Target regions (default: every region with VMs).")),
            ("notBefore", .instant), ("duration", .string(description: "Per VM, like 15m or PT30S.")),
            ("udGap", .string(description: "Between a set's update domains, like 30m (default).")),
            ("horizon", .string(description: "How far past the earliest start a plan may reach (default 90d).")),
            ("description", .text),
        ]).requiring(["kind"])),
        responses: [
            .created("The campaign, written.", planSchema),
            .ok("The campaign of a dry run: nothing written.", .json(planSchema)),
        ]
    ) { call in
        let dryRun = try call.flag("dryRun")
        let request = try await call.record { r in
            let kind = r.string("kind", required: true).flatMap { text in
                MaintenanceKind(rawValue: text) ?? { r.problem("kind", "'\(text.truncatedForMessage)' is not reboot or freeze"); return nil }()
            }
            let regions = r.strings("regions")
            let notBefore = r.string("notBefore").flatMap { text in
                Timestamp(iso8601: text) ?? { r.problem("notBefore", "'\(text.truncatedForMessage)' is not an ISO 8601 instant with an offset"); return nil }()
            }
            let duration = seconds(&r, "duration"), gap = seconds(&r, "udGap"), horizon = seconds(&r, "horizon", range: true)
            let description = r.string("description") ?? ""
            return kind.map { kind in
                CampaignRequest(kind: kind, regions: regions.isEmpty ? nil : regions, notBefore: notBefore, perVMDuration: duration,
                                udGap: gap ?? CampaignRequest.defaultUDGap, description: description,
                                horizon: horizon ?? CampaignRequest.defaultHorizon)
            }
        }
        guard let request else { throw PitstopError(.invalid, "body: kind: is required") }
        let result = try await call.services.scheduler.plan(request, now: call.now, dryRun: dryRun, actor: call.caller.name)
        let campaign = Responses.campaign(result.campaign, status: result.written ? "scheduled" : "dry-run", span: result.summary.span)
        let body = JSONText.object([
            ("campaign", campaign), ("turnOrders", JSONText.array(result.turnOrders.map(Responses.turnOrder))),
            ("warnings", JSONText.array(result.warnings.map(JSONText.quote))),
            ("events", Responses.list(result.events.map { Responses.event($0) })),
        ])
        return json(body, status: result.written ? .created : .ok)
    }

    static let planSchema = Schema.record([
        ("campaign", .ref("Campaign")), ("turnOrders", .array(.ref("TurnOrder"))), ("warnings", .array(.text)),
        ("events", .array(.ref("Event"))),
    ])

    static let listCampaigns = APIOperation(
        .get, "/api/v1/campaigns", id: "listCampaigns", summary: "Campaigns, oldest first, with their event counts.",
        tag: "campaigns", role: .viewer, parameters: APIParameter.page,
        responses: [.ok("A page of campaigns.", .json(ResponseSchemas.page("campaigns", of: .ref("CampaignSummary"))))]
    ) { call in
        let campaigns = try await call.services.scheduler.campaigns()
        // Oldest first, as `campaign list`: the creation instant, then the id, orders them.
        let page = try Page(campaigns, key: { $0.record.campaign.createdAt.iso8601 + " " + $0.record.campaign.id }, call: call)
        return json(page.json("campaigns", render: Responses.campaignSummary))
    }

    static let showCampaign = APIOperation(
        .get, "/api/v1/campaigns/{campaign}", id: "showCampaign", summary: "A campaign with its events and notices (`campaign show`).",
        tag: "campaigns", role: .viewer, parameters: [.path("campaign", "The campaign id.")],
        responses: [.ok("The campaign.", .json(.record([
            ("campaign", .ref("Campaign")), ("events", .array(.ref("Event"))), ("notices", .array(.ref("CampaignNotice"))),
        ])))]
    ) { call in
        let detail = try await call.services.scheduler.campaign(call.path("campaign"))
        return json(JSONText.object([
            ("campaign", Responses.campaign(detail.record.campaign, status: detail.record.status.rawValue, span: detail.record.span)),
            ("events", Responses.list(detail.events.map { Responses.event($0.event) })),
            ("notices", Responses.list(detail.notices.map(Responses.campaignNotice))),
        ]))
    }

    static let cancelCampaign = APIOperation(
        .post, "/api/v1/campaigns/{campaign}/cancel", id: "cancelCampaign",
        summary: "Cancel a campaign's scheduled events; what started carries on, history stays.",
        tag: "campaigns", role: .operator, parameters: [.path("campaign", "The campaign id.")],
        responses: [.ok("How many events were cancelled.", .json(.record([("campaign", .text), ("cancelled", .integer(minimum: 0))])))]
    ) { call in
        let id = call.path("campaign")
        let n = try await call.services.scheduler.cancel(id, now: call.now, actor: call.caller.name)
        return json(JSONText.object([("campaign", JSONText.quote(id)), ("cancelled", "\(n)")]))
    }

    // MARK: What is coming, and whether it keeps the rules

    static let upcoming = APIOperation(
        .get, "/api/v1/upcoming", id: "upcoming",
        summary: "Scheduled and started events ahead for a VM, set, region or subscription (at most one), soonest first. "
            + "`Accept: text/calendar` answers an iCalendar with one event per wave.",
        tag: "events", role: .viewer,
        parameters: [
            .query("vm", "Only this VM's events."), .query("set", "Only this availability set's events."),
            .query("region", "Only this region's events."), .query("subscription", "Only this subscription's events."),
            .query("within", "How far ahead, like 14d (default), at most 366d."),
        ] + APIParameter.page,
        responses: [.ok("A page of the events ahead (JSON), or all of them as one calendar.",
                        .json(ResponseSchemas.page("events", of: .ref("UpcomingEvent"))), .calendar)]
    ) { call in
        let scope: SchedulerService.Scope = switch try call.atMostOne(of: ["vm", "set", "region", "subscription"]) {
        case ("vm", let name)?: .vm(name)
        case ("set", let name)?: .availabilitySet(name)
        case ("region", let name)?: .region(name)
        case (_, let name)?: .subscription(name)
        case nil: .all
        }
        let within = try PitstopError.validating("query parameter within") { () throws(InputProblem) in
            let seconds = try DurationText(parsing: call.query("within") ?? "14d").seconds
            try InputLimits.checkRange(seconds)
            return seconds
        }
        let scheduler = call.services.scheduler, now = call.now
        // A calendar is subscribed to whole; the JSON list is paged, soonest first, in the
        // order the store lists events (start, then wave, then VM, which is the key's order).
        if call.prefers("text/calendar") {
            return text(UpcomingEvent.iCalendar(try await scheduler.upcoming(scope, now: now, within: within)), contentType: "text/calendar; charset=utf-8")
        }
        let page = try await Page.streamed(key: { EventPosition(of: $0.record.event).key }, call: call, position: EventPosition.init(key:)) { after, each in
            try await scheduler.forEachUpcoming(scope, now: now, within: within, after: after, each)
        }
        return json(page.json("events", render: Responses.upcoming))
    }

    static let check = APIOperation(
        .get, "/api/v1/check", id: "check",
        summary: "Check stored scheduled and started events against every rule (`pitstop check`); 200 either way, `ok` says which.",
        tag: "events", role: .viewer, parameters: [.query("campaign", "Only violations that involve this campaign's events.")],
        responses: [.ok("The violations found.", .json(.record([("ok", .boolean()), ("violations", .array(.ref("Violation")))])))]
    ) { call in
        json(Responses.check(try await call.services.scheduler.check(campaign: call.query("campaign"))))
    }

    // MARK: Events and waves

    static let showEvent = APIOperation(
        .get, "/api/v1/events/{wave}/{vm}", id: "showEvent",
        summary: "One event (id WAVE/VM): planned against actual, approval, forced start (`event show`).",
        tag: "events", role: .viewer, parameters: [.path("wave", "The wave id."), .path("vm", "The VM's name.")],
        responses: [.ok("The event.", .json(.ref("EventDetail")))]
    ) { call in
        let (record, waveEvents) = try await call.services.lifecycle.eventDetail(call.path("wave") + "/" + call.path("vm"))
        return json(Responses.eventDetail(record, waveEvents: waveEvents))
    }

    static func eventTransition(_ transition: Transition) -> APIOperation {
        APIOperation(
            .post, "/api/v1/events/{wave}/{vm}/\(transition.rawValue)", id: "\(transition.rawValue)Event",
            summary: "\(transition.summary) one event (`event \(transition.rawValue)`).",
            tag: "events", role: .executor,
            parameters: [.path("wave", "The wave id."), .path("vm", "The VM's name.")],
            body: transitionBody(transition),
            responses: [.ok("What changed.", .json(transitionSchema))]
        ) { call in
            try await perform(transition, on: .event(call.path("wave") + "/" + call.path("vm")), call)
        }
    }

    static func waveTransition(_ transition: Transition) -> APIOperation {
        APIOperation(
            .post, "/api/v1/waves/{wave}/\(transition.rawValue)", id: "\(transition.rawValue)Wave",
            summary: "\(transition.summary) every event of a wave, since a wave goes together (`event \(transition.rawValue) --wave`).",
            tag: "events", role: .executor, parameters: [.path("wave", "The wave id.")],
            body: transitionBody(transition),
            responses: [.ok("What changed.", .json(transitionSchema))]
        ) { call in
            try await perform(transition, on: .wave(call.path("wave")), call)
        }
    }

    static func transitionBody(_ transition: Transition) -> APIBody {
        var fields: [(String, Schema)] = [
            ("at", .instant), ("reason", .string(description: "Why; recorded with the event and in the audit.")),
        ]
        if transition == .start {
            fields.append(("force", .boolean(description: "Start even if the guard refuses; needs a reason, and is recorded as forced.")))
        }
        return .json(.object(fields, required: []), required: false)
    }

    static let transitionSchema = Schema.record([
        ("transition", .string(values: Transition.allCases.map(\.rawValue))),
        ("target", .record([("kind", .string(values: ["event", "wave"])), ("id", .text)])),
        ("at", .instant), ("changed", .array(.ref("EventRecord"))), ("unchanged", .array(.ref("EventRecord"))),
        ("forced", .boolean()), ("conflicts", .array(.ref("Finding"))), ("unapproved", .array(.text)),
        ("auditSeq", .nullable(.integer(minimum: 1))),
    ])

    /// Reads `{"at", "reason", "force"}` and moves the target; a refused start is 409 with
    /// the conflicting events in `conflicts`.
    static func perform(_ transition: Transition, on target: EventTarget, _ call: APICall) async throws -> Response {
        let (at, reason, force) = try await call.record(required: false) { r in
            let at = r.string("at").flatMap { text in
                Timestamp(iso8601: text) ?? { r.problem("at", "'\(text.truncatedForMessage)' is not an ISO 8601 instant with an offset"); return nil }()
            }
            let reason = r.string("reason")
            let force = transition == .start ? r.bool("force") ?? false : false
            return (at, reason, force)
        }
        let result = try await call.services.lifecycle.transition(transition, target, at: at ?? call.now, reason: reason, force: force,
                                                                   actor: call.caller.name)
        return json(Responses.transition(result))
    }

    /// A duration field (`15m`, `PT30S`), within the range limit when `range`.
    static func seconds(_ r: inout RecordReader, _ key: String, range: Bool = false) -> Int64? {
        guard let text = r.string(key) else { return nil }
        do throws(InputProblem) {
            let seconds = try DurationText(parsing: text).seconds
            if range { try InputLimits.checkRange(seconds) }
            return seconds
        } catch {
            r.problem(key, error.message)
            return nil
        }
    }
}

extension Transition {
    /// `Approve`, `Start`, ... as an operation's summary begins.
    var summary: String {
        switch self {
        case .approve: "Approve on the owner's behalf (it may start early, though not before its notice has run)"
        case .start: "Record the start of, if the rules allow it now,"
        case .complete: "Record the completion of"
        case .fail: "Record the failure of"
        case .cancel: "Cancel (scheduled events only)"
        }
    }
}

enum AuditAPI {
    static let operations: [APIOperation] = [entries, verify, report, notices]

    static let entries = APIOperation(
        .get, "/api/v1/audit", id: "auditEntries",
        summary: "Audit entries, oldest first, about at most one subject, by time and action (`pitstop audit`).",
        tag: "audit", role: .viewer,
        parameters: AuditSubject.Kind.queryable.map { .query($0.rawValue, "Entries about this \($0.rawValue).") } + [
            .query("since", "Entries recorded at or after this instant.", schema: .instant),
            .query("until", "Entries recorded before this instant.", schema: .instant),
            .query("action", "Only this action, like vm.moved or event.started."),
        ] + APIParameter.page,
        responses: [.ok("A page of entries.", .json(ResponseSchemas.page("entries", of: .ref("AuditEntry"))))]
    ) { call in
        let subject = try call.atMostOne(of: AuditSubject.Kind.queryable.map(\.rawValue))
            .flatMap { given in AuditSubject.Kind(rawValue: given.name).map { AuditSubject($0, given.value) } }
        let after = try PageCursor.position(call) { Int64($0) }
        let limit = try PageCursor.limit(call)
        let filter = AuditFilter(subject: subject, since: try call.instant("since"), until: try call.instant("until"),
                                 action: call.query("action"), afterSeq: after, limit: limit + 1)
        let entries = try await call.services.audit.entries(filter)
        let shown = entries.prefix(limit)
        let next = entries.count > limit ? shown.last.map { PageCursor.encode(String($0.seq)) } : nil
        return json(Page(items: Array(shown), next: next).json("entries", render: Responses.auditEntry))
    }

    static let verify = APIOperation(
        .get, "/api/v1/audit/verify", id: "auditVerify",
        summary: "Verify the audit chain and its signed checkpoints (`audit verify`); 200 either way, `ok` says which.",
        tag: "audit", role: .viewer,
        responses: [.ok("The verification.", .json(.record([
            ("ok", .boolean()), ("signed", .boolean()),
            ("chain", .record([
                ("ok", .boolean()), ("entries", .integer(minimum: 0)),
                ("firstBroken", .nullable(.record([("seq", .integer()), ("reason", .text)]))),
                ("head", .nullable(.record([("seq", .integer()), ("hash", .text)]))),
            ])),
            ("checkpoints", .record([
                ("stored", .integer(minimum: 0)), ("kept", .integer(minimum: 0)),
                ("latest", .nullable(.record([("seq", .integer()), ("hash", .text), ("at", .instant), ("key", .text)]))),
                ("unsignedEntries", .integer(minimum: 0)),
            ])),
            ("findings", .array(.ref("Finding"))),
        ])))]
    ) { call in
        json(Responses.verification(try await call.services.audit.verify(now: call.now)))
    }

    static let report = APIOperation(
        .get, "/api/v1/reports", id: "report",
        summary: "Maintenance per region, set and subscription: events by kind and outcome, planned against actual downtime, findings (`pitstop report`).",
        tag: "audit", role: .viewer,
        parameters: [
            .query("since", "Events planned to start at or after this instant.", schema: .instant),
            .query("until", "Events planned to start before this instant.", schema: .instant),
            .query("region", "Only this region's events."),
        ],
        responses: [.ok("The report.", .json(.record([
            ("since", .nullable(.instant)), ("until", .nullable(.instant)), ("region", .nullable(.name)),
            ("regions", .array(.ref("ReportLine"))), ("sets", .array(.ref("ReportLine"))), ("subscriptions", .array(.ref("ReportLine"))),
            ("total", .ref("ReportLine")), ("findings", .array(.ref("Finding"))),
        ])))]
    ) { call in
        let query = ReportQuery(since: try call.instant("since"), until: try call.instant("until"), region: call.query("region"))
        return json(Responses.report(try await call.services.audit.report(query, now: call.now)))
    }

    static let notices = APIOperation(
        .get, "/api/v1/notices", id: "notices", summary: "Maintenance notices: queued, sent or withdrawn, with attempts and errors (`pitstop notices`).",
        tag: "audit", role: .viewer, parameters: [.query("campaign", "Only this campaign's notices.")] + APIParameter.page,
        responses: [.ok("A page of notices, oldest first.", .json(ResponseSchemas.page("notices", of: .ref("Notice"))))]
    ) { call in
        let notices = try await call.services.notifier.notices(campaign: call.query("campaign"), now: call.now)
        // By id, zero-padded so that the text order is the number's.
        let page = try Page(notices, key: { String(repeating: "0", count: max(0, 20 - String($0.notice.id).count)) + String($0.notice.id) }, call: call)
        return json(page.json("notices", render: Responses.notice))
    }
}

extension AuditSubject.Kind {
    /// The subjects `pitstop audit` filters by, as query parameters.
    static let queryable: [AuditSubject.Kind] = [.vm, .set, .region, .campaign, .subscription, .wave, .event]
}
