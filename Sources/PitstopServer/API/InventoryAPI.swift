// `/api/v1` for the fleet: the inventory document, imports, and single records of regions,
// pairs, subscriptions, sets, VMs, windows and blackouts; window occurrences.
import Hummingbird
import PitstopCore
import PitstopService

enum InventoryAPI {
    static let operations: [APIOperation] = [
        APIOperation(.get, "/api/v1/regions", id: "listRegions", summary: "The regions, by name, with the regions each is paired with.",
                     tag: "inventory", role: .viewer, parameters: APIParameter.page,
                     responses: [.ok("A page of regions.", .json(ResponseSchemas.page("regions", of: .ref("Region"))))]) { call in
            let inventory = call.services.inventory(actor: call.caller.name, clock: { call.now })
            let regions = try await inventory.regions()
            let pairs = try await inventory.regionPairs()
            let page = try Page(regions, key: \.name, call: call)
            return json(page.json("regions") { r in
                Responses.region(r, pairedWith: pairs.filter { $0.region == r.name }.map(\.pairedWith) + pairs.filter { $0.pairedWith == r.name }.map(\.region))
            })
        },
    ]
}
