// Placeholder until the token service lands: the roles an API token can have.
public enum TokenRole: String, Sendable, Hashable, CaseIterable, Comparable {
    case viewer, executor, `operator`

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }

    /// Whether a token of this role may do what `needed` may.
    public func allows(_ needed: TokenRole) -> Bool { self >= needed }
}
