// The fleet snapshot refuses a VM named twice, whether the names arrive sorted (as the store
// gives them) or not, and finds each VM by name either way.
import PitstopCore
import Testing

@Suite struct FleetSnapshotTests {
    func snapshot(_ names: [String]) throws -> FleetSnapshot {
        try FleetSnapshot(
            regions: [Region(name: "eastus")], pairs: [], subscriptions: [Subscription(id: "sub")], sets: [],
            vms: names.map { VirtualMachine(name: $0, region: "eastus", subscription: "sub") })
    }

    @Test(arguments: [
        (["a", "a"], "vms[1]: VM 'a' appears twice"),
        (["b", "a", "b"], "vms[2]: VM 'b' appears twice"),
        (["c", "a", "c", "a"], "vms[2]: VM 'c' appears twice"),
    ])
    func aVMNamedTwiceIsRefusedAtItsSecondPlace(names: [String], message: String) {
        let error = #expect(throws: InputProblem.self) { try snapshot(names) }
        #expect(error?.message == message)
    }

    @Test(arguments: [["a", "b", "c"], ["c", "a", "b"]])
    func everyVMIsFoundByName(names: [String]) throws {
        let fleet = try snapshot(names)
        for name in names { #expect(fleet.vm(named: name)?.name == name) }
        #expect(fleet.vm(named: "z") == nil)
    }
}
