/// What the VMs of one input have claimed so far: their names and IP addresses. Each name and
/// each address belongs to one VM, so a second VM that claims one is refused at its own line,
/// naming the first, and every such clash in a file is reported in one run (the stored fleet's
/// addresses are checked when the VMs are written).
public struct ImportClaims: Sendable {
    private var names: Set<String>
    /// Each address given so far: the VM it was given to, and that VM's line.
    private var addresses: [String: (vm: String, line: Int)] = [:]

    /// `expectedVMs` sizes the table of names (a million-row file would otherwise rehash it
    /// twenty times).
    public init(expectedVMs: Int = 0) {
        names = Set(minimumCapacity: expectedVMs)
    }

    /// Claims a VM's name; the problem if a VM earlier in the input has it.
    public mutating func claim(name: String) -> FieldProblem? {
        names.insert(name).inserted ? nil : FieldProblem("name", "duplicate VM '\(name.truncatedForMessage)' in this file")
    }

    /// Claims the address `vm` is given (its canonical form, as checked) at `line`; the
    /// problem if a VM earlier in the input was given it.
    public mutating func claimAddress(of vm: VirtualMachine, line: Int) -> FieldProblem? {
        guard let address = vm.ipAddress else { return nil }
        if let first = addresses[address] {
            return FieldProblem("ipAddress", "\(address) is already given to VM \(first.vm) on line \(first.line) of this file")
        }
        addresses[address] = (vm.name, line)
        return nil
    }
}
