// `/api/v1` for the fleet: the inventory document, imports, and single records of regions,
// pairs, subscriptions, sets, VMs, windows and blackouts; window occurrences. Each handler
// calls the InventoryService use case of the CLI command it mirrors and answers with that
// command's `--format json` shape; a record sent to be added is read by the import's own
// record reader, so the API and an import accept and refuse exactly the same fields.
import Foundation
import Hummingbird
import PitstopCore
import PitstopService
import Synchronization

enum InventoryAPI {
    static let operations: [APIOperation] = document + regions + regionPairs + subscriptions + availabilitySets + vms
        + windows + blackouts + occurrences

    // MARK: The document

    static let document: [APIOperation] = [
        APIOperation(.get, "/api/v1/inventory", id: "exportInventory",
                     summary: "The whole inventory as one document, exactly as `pitstop export` writes it: importing it changes nothing.",
                     tag: "inventory", role: .viewer,
                     responses: [.ok("The inventory document.", .json(.ref("Inventory")))]) { call in
            let pieces = Gathered<String>()
            try await call.inventory.export { pieces.append($0) }
            return json(pieces.all.joined())
        },
        APIOperation(.get, "/api/v1/inventory/summary", id: "inventorySummary",
                     summary: "Per region: sets, VMs, their spread over update and fault domains, and warnings, as `pitstop inventory` shows it.",
                     tag: "inventory", role: .viewer,
                     responses: [.ok("The regions, by name.", .json(.record([("regions", .array(.ref("RegionSummary")))])))]) { call in
            json(Responses.document("regions", try await call.inventory.inventorySummary().map(Responses.regionSummary)))
        },
        APIOperation(.post, "/api/v1/inventory/import", id: "importInventory",
                     summary: "Import an inventory document (application/json) or VMs (text/csv, the header of `pitstop import`), read as it arrives: "
                        + "upsert by name, all or nothing. A refused import is 400 with every problem as FILE:LINE: field; other media types are 415.",
                     tag: "inventory", role: .operator,
                     parameters: [.query("name", "The file name problems are reported against (default `body`).", schema: .name)],
                     body: APIBody(content: [.json(.object([], required: [], open: true, description: "An inventory document: see Inventory; every key may be left out.")), .csv],
                                   required: true, streamed: true),
                     responses: [.ok("What the import did.", .json(.ref("ImportSummary")))]) { call in
            try await importBody(call)
        },
    ]

    /// The import of a streamed body: its chunks go to the import as they arrive, without the
    /// 1 MiB limit of a body read whole. A CSV is checked and written as its rows come; a JSON
    /// document is parsed whole, but a value past the document limit is refused while it arrives.
    static func importBody(_ call: APICall) async throws -> Response {
        let mediaType = call.request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let mediaType, ["application/json", "text/csv"].contains(mediaType) else {
            return errorResponse(.unsupportedMediaType, code: "unsupported-media-type",
                                 message: "an import is application/json (an inventory document) or text/csv (VMs), not "
                                    + (mediaType.map { "'\($0.truncatedForMessage)'" } ?? "a body without a Content-Type"))
        }
        let name = call.query("name") ?? "body"
        try PitstopError.validating("query parameter name") { () throws(InputProblem) in try InventoryRules.checkName(name) }
        let input = ImportInput.stream(call.request.body.map { Array($0.readableBytesView) }, name: name,
                                       sizeHint: call.request.headers[.contentLength].flatMap { Int($0) })
        let inventory = call.inventory
        let summary = mediaType == "text/csv" ? try await inventory.importCSV(input) : try await inventory.importDocument(input)
        return json(Responses.importSummary(summary))
    }

    // MARK: Regions and pairs

    static let regions: [APIOperation] = [
        list("/api/v1/regions", id: "listRegions", summary: "The regions, by name, with the regions each is paired with.", key: "regions", item: "Region",
             items: { call in
                 let inventory = call.inventory
                 let partners = Rules.pairConflicts(try await inventory.regionPairs())
                 return try await inventory.regions().map { (region: $0, partners: partners) }
             }, by: \.region.name, render: { regionJSON($0.region, partners: $0.partners) }),
        show("/api/v1/regions/{name}", id: "getRegion", summary: "One region with the regions it is paired with.", item: "Region") { inventory, name in
            regionJSON(try await inventory.region(named: name), partners: Rules.pairConflicts(try await inventory.regionPairs()))
        },
        create("/api/v1/regions", id: "addRegion", what: "a region", input: RecordSchemas.region, item: "Region", from: "regions", \.regions) {
            try await $0.addRegion($1)
            return regionJSON($1, partners: [:])
        },
        remove("/api/v1/regions/{name}", id: "removeRegion", what: "a region") { try await $0.removeRegion($1[0]) },
    ]

    /// A region with the regions linked to it, in either direction (rule 3's partners), as `GET /regions` lists it.
    static func regionJSON(_ region: Region, partners: [String: [String]]) -> String {
        Responses.region(region, pairedWith: partners[region.name] ?? [])
    }

    static let regionPairs: [APIOperation] = [
        list("/api/v1/region-pairs", id: "listRegionPairs", summary: "The pair links REGION -> PAIRED-WITH, by region then partner.",
             key: "regionPairs", item: "RegionPair", items: { try await $0.inventory.regionPairs() },
             by: { "\($0.region)\n\($0.pairedWith)" }, render: Responses.regionPair),
        APIOperation(.post, "/api/v1/region-pairs", id: "pairRegions",
                     summary: "Record the link REGION -> PAIRED-WITH (one record as in the document's `regionPairs`); 200 when it was already recorded.",
                     tag: "inventory", role: .operator, body: .json(RecordSchemas.regionPair),
                     responses: [.created("The link recorded.", .ref("RegionPair")), .ok("Already recorded; nothing changed.", .json(.ref("RegionPair")))]) { call in
            let pair = try await record(call, "regionPairs") { $0.regionPairs }
            let outcome = try await call.inventory.pair(pair.region, with: pair.pairedWith)
            return outcome == .added ? json(Responses.regionPair(pair), status: .created) : json(Responses.regionPair(pair))
        },
        remove("/api/v1/region-pairs/{region}/{partner}", id: "unpairRegions", what: "the link between two regions, in either direction") {
            try await $0.unpair($1[0], from: $1[1])
        },
    ]

    // MARK: Subscriptions and sets

    static let subscriptions = records(
        "/api/v1/subscriptions", parameter: "id", item: "Subscription", what: "subscription",
        summary: "The subscriptions, by id, with their notice recipients.", input: RecordSchemas.subscription,
        from: "subscriptions", \.subscriptions, all: { try await $0.subscriptions() }, by: \.id, one: { try await $0.subscription(id: $1) },
        add: { try await $0.addSubscription($1) }, remove: { try await $0.removeSubscription($1) }, render: Responses.subscription)

    static let availabilitySets: [APIOperation] = [
        list("/api/v1/availability-sets", id: "listAvailabilitySets", summary: "The availability sets, by name; `region` keeps those of one region.",
             key: "availabilitySets", item: "AvailabilitySet", parameters: [.query("region", "Only the sets of this region.", schema: .name)],
             items: { call in try await call.inventory.availabilitySets(region: call.query("region")).map(\.set) },
             by: \.name, render: Responses.availabilitySet),
        show("/api/v1/availability-sets/{name}", id: "getAvailabilitySet", summary: "One set with its VMs, by name.", item: "AvailabilitySetDetail") { inventory, name in
            let (set, vms) = try await inventory.availabilitySet(named: name)
            return Responses.availabilitySet(set, vms: vms)
        },
        create("/api/v1/availability-sets", id: "addAvailabilitySet", what: "an availability set", input: RecordSchemas.availabilitySet,
               item: "AvailabilitySet", from: "availabilitySets", \.availabilitySets) {
            try await $0.addAvailabilitySet($1.set)
            return Responses.availabilitySet($1.set)
        },
        remove("/api/v1/availability-sets/{name}", id: "removeAvailabilitySet", what: "an availability set") { try await $0.removeAvailabilitySet($1[0]) },
    ]

    // MARK: VMs

    static let vms: [APIOperation] = [
        APIOperation(.get, "/api/v1/vms", id: "listVMs", summary: "The VMs, by name; at most one of `region`, `set` and `subscription` narrows them.",
                     tag: "inventory", role: .viewer,
                     parameters: [.query("region", "Only the VMs of this region.", schema: .name), .query("set", "Only the VMs of this set.", schema: .name),
                                  .query("subscription", "Only the VMs of this subscription.", schema: .name)] + APIParameter.page,
                     responses: [.ok("A page of VMs.", .json(ResponseSchemas.page("vms", of: .ref("VM"))))]) { call in
            let scope: VMScope = switch try call.atMostOne(of: ["region", "set", "subscription"]) {
            case ("region", let name)?: .region(name)
            case ("set", let name)?: .availabilitySet(name)
            case (_, let name)?: .subscription(name)
            case nil: .all
            }
            // The VMs stream in name order from the cursor on, and the read stops when the page is full.
            let page = try await Page.streamed(key: \.name, call: call, position: { $0 }) { after, each in
                try await call.inventory.forEachVM(in: scope, after: after, each)
            }
            return json(page.json("vms", render: Responses.vm))
        },
        show("/api/v1/vms/{name}", id: "getVM", summary: "One VM.", item: "VM") { inventory, name in
            Responses.vm(try await inventory.vm(named: name))
        },
        create("/api/v1/vms", id: "addVM", what: "a VM (in a set without domains it is placed round-robin)", input: RecordSchemas.vm, item: "VM",
               from: "vms", \.vms) { Responses.vm(try await $0.addVM($1)) },
        APIOperation(.patch, "/api/v1/vms/{name}", id: "moveVM",
                     summary: "Move a VM, as `pitstop vm move`: to another set (`availabilitySet`), to other domains of its set, or out of any set (`availabilitySet: null`).",
                     tag: "inventory", role: .operator, parameters: [.path("name", "The VM.")], body: .json(RecordSchemas.move),
                     responses: [.ok("The VM where it is now.", .json(.ref("VM")))]) { call in
            let name = call.path("name")
            let move = try VMMove.decode(try await call.jsonBody(), file: "body").get()
            let inventory = call.inventory
            let target: String?
            switch move.target {
            case .noSet: target = nil
            case .set(let set): target = set
            case .currentSet:
                guard let current = try await inventory.vm(named: name).availabilitySet else {
                    throw PitstopError(.invalid, "availabilitySet: VM \(name) is single-instance: give availabilitySet to move it into a set")
                }
                target = current
            }
            return json(Responses.vm(try await inventory.moveVM(name, toSet: target, updateDomain: move.updateDomain, faultDomain: move.faultDomain)))
        },
        remove("/api/v1/vms/{name}", id: "removeVM", what: "a VM (refused while it has scheduled or started maintenance)") { try await $0.removeVM($1[0]) },
    ]

    // MARK: Windows and blackouts

    static let windows = records(
        "/api/v1/windows", parameter: "name", item: "Window", what: "maintenance window",
        summary: "The maintenance windows as defined, by name.", input: RecordSchemas.window,
        from: "maintenanceWindows", \.maintenanceWindows, all: { try await $0.maintenanceWindows() }, by: \.name,
        one: { try await $0.maintenanceWindow(named: $1) }, add: { try await $0.addWindow($1) }, remove: { try await $0.removeWindow($1) },
        render: Responses.window)

    static let blackouts: [APIOperation] = [
        list("/api/v1/blackouts", id: "listBlackouts", summary: "The blackouts, by name; a null region is fleet-wide.",
             key: "blackouts", item: "Blackout", items: { try await $0.inventory.blackouts() }, by: \.name, render: Responses.blackout),
        create("/api/v1/blackouts", id: "addBlackout", what: "a blackout, fleet-wide or for one region", input: RecordSchemas.blackout, item: "Blackout",
               from: "blackouts", \.blackouts) {
            try await $0.addBlackout($1)
            return Responses.blackout($1)
        },
        remove("/api/v1/blackouts/{name}", id: "removeBlackout", what: "a blackout") { try await $0.removeBlackout($1[0]) },
    ]

    // MARK: Window occurrences

    /// How far ahead occurrences are listed when `to` is not given: `pitstop windows`'s default `--within 30d`.
    static let defaultOccurrenceSpan: Int64 = 30 * 86_400

    static let occurrences: [APIOperation] = [
        APIOperation(.get, "/api/v1/window-occurrences", id: "listWindowOccurrences",
                     summary: "The occurrences of maintenance windows overlapping from..to (default: now for 30 days; at most "
                        + "\(InputLimits.maximumRangeSeconds / 86_400) days), soonest first, with blackouts cut out, as `pitstop windows`. "
                        + "iCalendar when the Accept header ranks text/calendar above application/json (by q, then by order); JSON otherwise.",
                     tag: "inventory", role: .viewer,
                     parameters: [.query("from", "Start, ISO 8601 with an offset (default: now).", schema: .instant),
                                  .query("to", "End, ISO 8601 with an offset (default: from + 30 days).", schema: .instant),
                                  .query("region", "Only the windows of this region and its sets.", schema: .name),
                                  .query("set", "The windows that apply to this set: its own, else its region's.", schema: .name)],
                     responses: [.ok("The occurrences.", .json(.record([("occurrences", .array(.ref("WindowOccurrence")))])), .calendar)]) { call in
            let from = try call.instant("from") ?? call.now
            let to = try call.instant("to") ?? from + defaultOccurrenceSpan
            guard to > from else { throw PitstopError(.invalid, "query parameter to: \(to.iso8601) is not after from \(from.iso8601)") }
            try PitstopError.validating("query parameters from..to") { () throws(InputProblem) in try InputLimits.checkRange(to - from) }
            let filter: InventoryService.WindowFilter = switch try call.atMostOne(of: ["region", "set"]) {
            case ("region", let region)?: .region(region)
            case (_, let set)?: .availabilitySet(set)
            case nil: .all
            }
            let occurrences = try await call.inventory.windowOccurrences(filter, in: TimeRange(start: from, end: to))
            guard call.prefers("text/calendar") else {
                return json(Responses.document("occurrences", occurrences.map(Responses.windowOccurrence)), headers: [.vary: "Accept"])
            }
            return Response(status: .ok, headers: [.contentType: "text/calendar; charset=utf-8", .vary: "Accept"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: WindowOccurrence.iCalendar(occurrences))))
        },
    ]

    // MARK: Shapes of operations

    /// `GET path`: a page of the records `items` gives, in `sortKey` order.
    static func list<Item: Sendable>(
        _ path: String, id: String, summary: String, key: String, item: String, parameters: [APIParameter] = [],
        items: @escaping @Sendable (APICall) async throws -> [Item], by sortKey: @escaping @Sendable (Item) -> String,
        render: @escaping @Sendable (Item) -> String
    ) -> APIOperation {
        APIOperation(.get, path, id: id, summary: summary, tag: "inventory", role: .viewer, parameters: parameters + APIParameter.page,
                     responses: [.ok("A page of \(key).", .json(ResponseSchemas.page(key, of: .ref(item))))]) { call in
            json(try Page(try await items(call), key: sortKey, call: call).json(key, render: render))
        }
    }

    /// The four operations of a kind whose list, record and answer are one shape: `GET path`,
    /// `GET path/{parameter}`, `POST path`, `DELETE path/{parameter}`; operationIds from `item`.
    static func records<Value: Sendable>(
        _ path: String, parameter: String, item: String, what: String, summary: String, input: Schema,
        from key: String, _ records: @escaping @Sendable (InventoryDocument) -> [Located<Value>],
        all: @escaping @Sendable (InventoryService) async throws -> [Value], by sortKey: @escaping @Sendable (Value) -> String,
        one: @escaping @Sendable (InventoryService, String) async throws -> Value,
        add: @escaping @Sendable (InventoryService, Value) async throws -> Void,
        remove removal: @escaping @Sendable (InventoryService, String) async throws -> Void,
        render: @escaping @Sendable (Value) -> String
    ) -> [APIOperation] {
        [
            list(path, id: "list\(item)s", summary: summary, key: key, item: item, items: { try await all($0.inventory) }, by: sortKey, render: render),
            show("\(path)/{\(parameter)}", id: "get\(item)", summary: "One \(what).", item: item) { render(try await one($0, $1)) },
            create(path, id: "add\(item)", what: "a \(what)", input: input, item: item, from: key, records) {
                try await add($0, $1)
                return render($1)
            },
            remove("\(path)/{\(parameter)}", id: "remove\(item)", what: "a \(what)") { try await removal($0, $1[0]) },
        ]
    }

    /// `GET path/{key}`: one record, 404 when there is none.
    static func show(_ path: String, id: String, summary: String, item: String,
                     _ body: @escaping @Sendable (InventoryService, String) async throws -> String) -> APIOperation {
        let name = APIOperation.parameterNames(in: path)[0]
        return APIOperation(.get, path, id: id, summary: summary, tag: "inventory", role: .viewer, parameters: pathParameters(path),
                            responses: [.ok("The \(item).", .json(.ref(item)))]) { call in
            json(try await body(call.inventory, call.path(name)))
        }
    }

    /// `POST path`: one record as an item of the inventory document's list `key`, read by the
    /// import's record reader; `add` adds it and renders what was added. 201 with it, 409 when
    /// one of that name exists.
    static func create<Value: Sendable>(
        _ path: String, id: String, what: String, input: Schema, item: String,
        from key: String, _ records: @escaping @Sendable (InventoryDocument) -> [Located<Value>],
        add: @escaping @Sendable (InventoryService, Value) async throws -> String
    ) -> APIOperation {
        APIOperation(.post, path, id: id, summary: "Add \(what): one record, as in the inventory document's `\(key)`.", tag: "inventory",
                     role: .operator, body: .json(input), responses: [.created("The \(item) added.", .ref(item))]) { call in
            json(try await add(call.inventory, try await record(call, key, records)), status: .created)
        }
    }

    /// `DELETE path`: 204 when removed; 404 when there is none, 409 naming what still depends on it.
    static func remove(_ path: String, id: String, what: String,
                       _ body: @escaping @Sendable (InventoryService, [String]) async throws -> Void) -> APIOperation {
        let names = APIOperation.parameterNames(in: path)
        return APIOperation(.delete, path, id: id, summary: "Remove \(what); 409 names what still depends on it.", tag: "inventory", role: .operator,
                            parameters: pathParameters(path), responses: [.noContent("Removed.")]) { call in
            try await body(call.inventory, names.map(call.path))
            return Response(status: .noContent)
        }
    }

    private static func pathParameters(_ path: String) -> [APIParameter] {
        APIOperation.parameterNames(in: path).map { .path($0, "The \($0) of the record.") }
    }

    /// The body as one record of the kind `key`, read by the import's record reader: every
    /// problem is `body:LINE: field: problem`, and nothing is written.
    static func record<Value>(_ call: APICall, _ key: String, _ pick: (InventoryDocument) -> [Located<Value>]) async throws -> Value {
        let (document, problems) = InventoryDocument.decodeRecord(try await call.jsonBody(), key: key, file: "body")
        guard problems.isEmpty, let record = pick(document).first else { throw PitstopError.invalidInput(problems) }
        return record.value
    }
}

/// The schemas of the records a POST or PATCH takes: the fields of the inventory document's
/// records, each optional one nullable as the document reader accepts it.
enum RecordSchemas {
    static let region = Schema.object([("name", .name), ("displayName", .nullable(.text))], required: ["name"])
    static let regionPair = Schema.record([("region", .name), ("pairedWith", .name)])
    static let subscription = Schema.object([
        ("id", .name), ("admins", .nullable(.array(.text))), ("coAdmins", .nullable(.array(.text))), ("noticeTimeZone", .nullable(.text)),
    ], required: ["id"])
    static let availabilitySet = Schema.object([
        ("name", .name), ("region", .name), ("subscription", .name),
        ("faultDomains", .nullable(.integer(minimum: AvailabilitySet.faultDomainRange.lowerBound, maximum: AvailabilitySet.faultDomainRange.upperBound))),
        ("updateDomains", .nullable(.integer(minimum: AvailabilitySet.updateDomainRange.lowerBound, maximum: AvailabilitySet.updateDomainRange.upperBound))),
    ], required: ["name", "region", "subscription"])
    static let vm = Schema.object([
        ("name", .name), ("region", .nullable(.name)), ("subscription", .nullable(.name)), ("availabilitySet", .nullable(.name)),
        ("updateDomain", .nullable(.integer(minimum: 0))), ("faultDomain", .nullable(.integer(minimum: 0))), ("ipAddress", .nullable(.text)),
    ], required: ["name"])
    static let window = Schema.object([
        ("name", .name), ("region", .nullable(.name)), ("availabilitySet", .nullable(.name)),
        ("start", .string(description: "Local date and time, like 2026-12-05T22:00:00")), ("timeZone", .string(description: "An IANA zone")),
        ("duration", .string(description: "ISO 8601, like PT8H")), ("recurEvery", .nullable(.text)), ("expires", .nullable(.text)),
    ], required: ["name", "start", "timeZone", "duration"], description: "Exactly one of region and availabilitySet.")
    static let blackout = Schema.object([("name", .name), ("region", .nullable(.name)), ("start", .instant), ("end", .instant)],
                                        required: ["name", "start", "end"])
    static let move = Schema.object([
        ("availabilitySet", .nullable(.name)), ("updateDomain", .nullable(.integer(minimum: 0))), ("faultDomain", .nullable(.integer(minimum: 0))),
    ], required: [], description: "Absent availabilitySet keeps the VM's set; null makes it single-instance.")
}

extension APICall {
    /// The fleet's use cases acting as the caller, at the request's instant.
    fileprivate var inventory: InventoryService {
        let now = now
        return services.inventory(actor: caller.name, clock: { now })
    }
}

/// What a streaming use case hands over piece by piece, gathered.
private final class Gathered<Item: Sendable>: Sendable {
    private let items = Mutex<[Item]>([])
    func append(_ item: Item) { items.withLock { $0.append(item) } }
    var all: [Item] { items.withLock { $0 } }
}
