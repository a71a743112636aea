// The `recurEvery` grammar of maintenance windows (DOMAIN.md, "Maintenance windows").

/// A parsed `recurEvery` value such as `Week Saturday,Sunday` or `Month Last Sunday`.
public struct Recurrence: Sendable, Hashable, CustomStringConvertible {
    /// The text as the operator wrote it.
    public let text: String

    public init(parsing text: String) throws(InputProblem) {
        throw InputProblem("'\(text.truncatedForMessage)' is not a recurEvery value")
    }

    public var description: String { text }

    /// The local days on which occurrences start, from `from` through `through`, for a window
    /// whose first occurrence is on `anchor`; in order.
    public func days(anchor: CivilDate, from: CivilDate, through: CivilDate) -> [CivilDate] {
        []
    }
}
