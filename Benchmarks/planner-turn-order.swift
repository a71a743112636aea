// The planner alone on the benchmark fleet of generate-fleet.py (same regions, pairs, sets, VMs and
// windows, built in memory): a campaign planned without windows, with windows in one fixed turn
// order, and with windows and the turn-order search, interleaved, median of 4 each.
// Compiled with PitstopCore's sources into one module (it uses the planner's internal fixed-order
// entry point), by Benchmarks/run.py: swiftc -O Sources/PitstopCore/**/*.swift THIS -o ...
// usage: planner-turn-order VMS
import Foundation

func at(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }
func campaign(_ kind: MaintenanceKind, _ fleet: FleetSnapshot) throws -> Campaign {
    // Planned at the benchmark's clock; a reboot's week of notice is taken as already given.
    let created = at("2026-11-22T10:00:00Z") - (kind == .reboot ? 6 * 86_400 : 0)
    return try Campaign(id: "bench", request: CampaignRequest(kind: kind, notBefore: at("2026-11-23T10:15:00Z")), createdAt: created, fleet: fleet)
}
@main enum PlannerTurnOrderBenchmark {
    static func main() throws {
        // The fleet of generate-fleet.py: keep the two in step.
        let vmTotal = Int(CommandLine.arguments[1])!
        let regionCount = 60, setCount = 2000
        let regions = (0..<regionCount).map { Region(name: String(format: "region-%02d", $0)) }
        var pairs: [RegionPair] = []
        for i in stride(from: 0, to: regionCount - 1, by: 2) { pairs.append(RegionPair(region: regions[i].name, pairedWith: regions[i + 1].name)) }
        for i in stride(from: 0, to: regionCount, by: 10) { pairs.append(RegionPair(region: regions[i].name, pairedWith: regions[(i + 3) % regionCount].name)) }
        let subs = (0..<20).map { Subscription(id: String(format: "sub-%02d", $0), admins: ["ops\($0)@example.com"]) }
        let sets = (0..<setCount).map { s in AvailabilitySet(name: String(format: "set-%04d", s), region: regions[s % regionCount].name, subscription: subs[s % 20].id, faultDomains: 1 + s % 3, updateDomains: 5 + s % 16) }
        var vms: [VirtualMachine] = []
        vms.reserveCapacity(vmTotal)
        for v in 0..<vmTotal {
            if v % 20 == 19 { vms.append(VirtualMachine(name: String(format: "vm-%07d", v), region: regions[v % regionCount].name, subscription: String(format: "sub-%02d", v % 20))) }
            else { let s = sets[v % setCount]; vms.append(VirtualMachine(name: String(format: "vm-%07d", v), region: s.region, subscription: s.subscription, availabilitySet: s.name)) }
        }
        let zones = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "Asia/Singapore"]
        var windows: [MaintenanceWindow] = []
        for (i, r) in regions.enumerated() {
            let zone = TimeZone(identifier: zones[i % zones.count])!
            windows.append(MaintenanceWindow(name: "\(r.name)-weeknights", scope: .region(r.name), start: LocalDateTime(String(format: "2026-11-02T%02d:00", 20 + i % 4))!, timeZone: zone, duration: DurationText(seconds: 6 * 3600), recurrence: try Recurrence(parsing: "Week Monday,Tuesday,Wednesday,Thursday")))
            windows.append(MaintenanceWindow(name: "\(r.name)-weekend", scope: .region(r.name), start: LocalDateTime("2026-11-07T06:00")!, timeZone: zone, duration: DurationText(seconds: 16 * 3600), recurrence: try Recurrence(parsing: "Week Saturday,Sunday")))
        }
        let plain = try FleetSnapshot(regions: regions, pairs: pairs, subscriptions: subs, sets: sets, vms: vms)
        let windowed = try FleetSnapshot(regions: regions, pairs: pairs, subscriptions: subs, sets: sets, vms: vms, windows: windows)
        let clock = ContinuousClock()
        for kind in [MaintenanceKind.freeze, .reboot] {
            let c1 = try campaign(kind, plain), c2 = try campaign(kind, windowed)
            var a: [Duration] = [], b: [Duration] = [], f: [Duration] = []
            var outcome: PlanOutcome?
            let names = regions.map(\.name)
            for i in 0..<4 {
                let runA = { a.append(try clock.measure { _ = try Planner.plan(c1, fleet: plain, existing: []) }) }
                let runB = { b.append(try clock.measure { outcome = try Planner.planWithTurnOrders(c2, fleet: windowed, existing: []) }) }
                let runF = { f.append(try clock.measure { _ = try Planner.plan(c2, fleet: windowed, existing: [], existingCampaigns: [:], turnOrder: names) }) }
                if i % 2 == 0 { try runA(); try runB(); try runF() } else { try runF(); try runB(); try runA() }
            }
            func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
            func median(_ x: [Duration]) -> Double { let s = x.map(ms).sorted(); return (s[1] + s[2]) / 2 }
            print(kind.rawValue + String(format: " planner alone, median of 4: without windows %.0f ms, windows in one fixed order %.0f ms, windows with the order search %.0f ms; search/no windows %.2f, search/fixed order %.2f", median(a), median(f), median(b), median(b) / median(a), median(b) / median(f)))
            let o = outcome!
            print("  \(o.turnOrders.count) groups of linked regions, \(o.turnOrders.map { $0.others.count + 1 }.reduce(0, +)) orders placed, plan ends \(o.events.map(\.range.end).max()!)")
        }
    }
}
