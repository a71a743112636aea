// Campaigns: one maintenance operation (a kind, target regions, an earliest start), first as
// the operator asks for it, then validated against the fleet (docs/rules.md#kinds-of-maintenance).

/// What happens to each VM during a campaign, with its planning figures (docs/rules.md#kinds-of-maintenance).
public enum MaintenanceKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Memory-preserving live update: the VM is paused for at most 30 s.
    case freeze
    /// The VM is shut down, the host updated, the VM started again.
    case reboot

    /// How long after planning an event may start at the earliest, in seconds
    /// (7 days for a reboot, 15 minutes for a freeze).
    public var noticePeriod: Int64 {
        switch self {
        case .freeze: 15 * 60
        case .reboot: 7 * 86_400
        }
    }

    /// The per-VM duration a campaign uses unless it says otherwise, in seconds.
    public var defaultPerVMDuration: Int64 {
        switch self {
        case .freeze: 30
        case .reboot: 15 * 60
        }
    }

    /// The longest a VM may be down for this kind, in seconds; `nil` when only the
    /// configured downtime limits it.
    public var maxPerVMDuration: Int64? {
        switch self {
        case .freeze: 30
        case .reboot: nil
        }
    }

    /// Whether the subscription's admins and co-admins must have been sent a notice.
    public var needsNotice: Bool { self == .reboot }
}

/// Where an event is in its lifecycle: `scheduled -> started -> completed | failed`,
/// `scheduled -> cancelled`.
public enum EventStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case scheduled, started, completed, failed, cancelled

    /// Scheduled or started: the events the rules still constrain.
    public var isActive: Bool { self == .scheduled || self == .started }
}

/// A campaign as the operator asks for it, before it is checked against the fleet.
public struct CampaignRequest: Sendable, Hashable, Codable {
    /// The recovery gap between two update domains of a set unless the campaign says otherwise.
    public static let defaultUDGap: Int64 = 1800
    /// How far after its earliest start a campaign may reach unless it says otherwise.
    public static let defaultHorizon: Int64 = 90 * 86_400

    public var kind: MaintenanceKind
    /// The target regions; `nil` means every region that has VMs.
    public var regions: [String]?
    /// The earliest start; `nil` means as soon as the notice period allows.
    public var notBefore: Timestamp?
    /// Downtime per VM in seconds; `nil` means the kind's default.
    public var perVMDuration: Int64?
    /// Seconds between the end of one update domain's wave and the start of the set's next one.
    public var udGap: Int64
    /// What the maintenance is for, as notices and the scheduled-events document show it.
    public var description: String
    /// Seconds after the earliest start by which every event must have ended.
    public var horizon: Int64

    public init(
        kind: MaintenanceKind, regions: [String]? = nil, notBefore: Timestamp? = nil,
        perVMDuration: Int64? = nil, udGap: Int64 = CampaignRequest.defaultUDGap,
        description: String = "", horizon: Int64 = CampaignRequest.defaultHorizon
    ) {
        self.kind = kind
        self.regions = regions
        self.notBefore = notBefore
        self.perVMDuration = perVMDuration
        self.udGap = udGap
        self.description = description
        self.horizon = horizon
    }
}

/// The figures of a campaign the rules need to judge its events: what the checker and the
/// planner know about campaigns other than the one being planned.
public struct CampaignTerms: Sendable, Hashable, Codable {
    public var kind: MaintenanceKind
    public var perVMDuration: Int64
    public var udGap: Int64

    public init(kind: MaintenanceKind, perVMDuration: Int64, udGap: Int64) {
        self.kind = kind
        self.perVMDuration = perVMDuration
        self.udGap = udGap
    }

    /// What to assume of a campaign nobody described: the defaults of its kind, so that an
    /// unknown campaign is held to the usual recovery gap rather than to none.
    public static func assumed(kind: MaintenanceKind) -> CampaignTerms {
        CampaignTerms(kind: kind, perVMDuration: kind.defaultPerVMDuration, udGap: CampaignRequest.defaultUDGap)
    }
}

/// A validated campaign: one maintenance operation the planner turns into events.
public struct Campaign: Sendable, Hashable, Codable {
    /// The key; wave and event ids derive from it.
    public var id: String
    public var kind: MaintenanceKind
    /// Target regions, sorted by name.
    public var regions: [String]
    /// When it was planned: notices count from here.
    public var createdAt: Timestamp
    /// The earliest start the operator asked for (never before the notice has run).
    public var notBefore: Timestamp
    /// Downtime per VM, in seconds.
    public var perVMDuration: Int64
    /// Seconds between the end of one update domain's wave and the start of the set's next one.
    public var udGap: Int64
    /// What the maintenance is for, as notices and the scheduled-events document show it.
    public var description: String
    /// Seconds after the earliest start by which every event must have ended.
    public var horizon: Int64

    /// A campaign as stored; no checks, since a stored campaign may legitimately lie in the past.
    public init(
        id: String, kind: MaintenanceKind, regions: [String], createdAt: Timestamp, notBefore: Timestamp,
        perVMDuration: Int64, udGap: Int64, description: String = "",
        horizon: Int64 = CampaignRequest.defaultHorizon
    ) {
        self.id = id
        self.kind = kind
        self.regions = regions.sorted()
        self.createdAt = createdAt
        self.notBefore = notBefore
        self.perVMDuration = perVMDuration
        self.udGap = udGap
        self.description = description
        self.horizon = horizon
    }

    /// Validates `request` against `fleet`, planned at `createdAt`.
    ///
    /// Throws an ``InputProblem`` naming what is wrong: an unknown region, a freeze longer
    /// than 30 s, a duration that is not positive, a start earlier than the notice allows
    /// (with the earliest allowed instant), or target regions without VMs.
    public init(id: String, request: CampaignRequest, createdAt: Timestamp, fleet: FleetSnapshot) throws(InputProblem) {
        let kind = request.kind
        let duration = request.perVMDuration ?? kind.defaultPerVMDuration
        guard duration > 0 else {
            throw InputProblem("the per-VM duration must be positive, not \(DurationText.short(duration))")
        }
        if let max = kind.maxPerVMDuration, Rules.tooLong(kind, seconds: duration) {
            throw InputProblem(
                "a \(kind.rawValue) pauses each VM for at most \(DurationText.short(max)), "
                    + "not \(DurationText.short(duration))")
        }
        do throws(InputProblem) { try InputLimits.checkRange(duration) } catch {
            throw InputProblem("the per-VM duration: \(error.message)")
        }
        guard request.udGap >= 0 else {
            throw InputProblem("the recovery gap between update domains cannot be negative (\(request.udGap)s)")
        }
        do throws(InputProblem) { try InputLimits.checkRange(request.udGap) } catch {
            throw InputProblem("the recovery gap between update domains: \(error.message)")
        }
        guard request.horizon > 0 else {
            throw InputProblem("the planning horizon must be positive, not \(DurationText.short(request.horizon))")
        }
        do throws(InputProblem) { try InputLimits.checkRange(request.horizon) } catch {
            throw InputProblem("the planning horizon: \(error.message)")
        }
        let withVMs = Set(fleet.regionsWithVMs)
        let regions: [String]
        if let asked = request.regions {
            let unique = Array(Set(asked)).sorted()
            guard !unique.isEmpty else { throw InputProblem("a campaign needs at least one target region") }
            let unknown = unique.filter { fleet.region(named: $0) == nil }
            if !unknown.isEmpty {
                let known = fleet.regions.map(\.name).sorted()
                let shown = known.count > 12 ? known.prefix(12).joined(separator: ", ") + ", …" : known.joined(separator: ", ")
                throw InputProblem(
                    "unknown region\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0.truncatedForMessage)'" }.joined(separator: ", ")) "
                        + "(the fleet has: \(shown.isEmpty ? "no regions" : shown))")
            }
            let empty = unique.filter { !withVMs.contains($0) }
            if !empty.isEmpty {
                throw InputProblem("campaign over regions with no VMs: \(empty.joined(separator: ", "))")
            }
            regions = unique
        } else {
            guard !withVMs.isEmpty else { throw InputProblem("campaign over a fleet with no VMs") }
            regions = withVMs.sorted()
        }
        let earliest = Rules.earliestStart(plannedAt: createdAt, kind: kind)
        let notBefore = request.notBefore ?? earliest
        guard notBefore >= earliest else {
            throw InputProblem(
                "notBefore \(notBefore) is too early: a \(kind.rawValue) needs \(DurationText.short(kind.noticePeriod)) "
                    + "of notice after planning at \(createdAt), so the earliest allowed start is \(earliest)")
        }
        self.init(
            id: id, kind: kind, regions: regions, createdAt: createdAt, notBefore: notBefore,
            perVMDuration: duration, udGap: request.udGap, description: request.description,
            horizon: request.horizon)
    }

    /// The figures the rules need to judge this campaign's events.
    public var terms: CampaignTerms { CampaignTerms(kind: kind, perVMDuration: perVMDuration, udGap: udGap) }

    /// The earliest instant an event may start: `notBefore`, and never before the notice has run.
    public var earliestStart: Timestamp { max(notBefore, Rules.earliestStart(plannedAt: createdAt, kind: kind)) }

    /// Every event must have ended by this instant.
    public var deadline: Timestamp { earliestStart + horizon }
}
