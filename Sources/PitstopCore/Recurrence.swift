// The `recurEvery` grammar of maintenance windows (docs/rules.md#recurevery-grammar).

/// A parsed `recurEvery` value such as `Week Saturday,Sunday` or `Month Last Sunday`.
///
/// The grammar (keywords are case-insensitive; `N` is 1...999 and defaults to 1):
///
/// | form | meaning |
/// | --- | --- |
/// | `Day`, `NDays` | every N days, counted from the anchor date |
/// | `Week`, `NWeeks` [weekdays] | every N ISO weeks (Monday-start) from the anchor's week, on the weekdays listed (default: the anchor's weekday) |
/// | `Month`, `NMonths` [`dayK`,...] | every N months from the anchor's month, on those days of the month (default: the anchor's day); a month without that day is skipped |
/// | `Month` ordinal weekday [`OffsetK`] | every N months on the First, Second, Third, Fourth or Last weekday of the month, shifted by K days (-6...+6), possibly into an adjacent month |
///
/// Weekdays are English names (`Monday`) or their three-letter abbreviations (`Mon`), separated
/// by commas. Occurrences fall only on days the pattern names, never before the anchor.
public struct Recurrence: Sendable, Hashable, CustomStringConvertible {
    /// The text as the operator wrote it.
    public let text: String

    /// What `text` means.
    let rule: Rule

    enum Rule: Sendable, Hashable {
        /// Every `every` days from the anchor.
        case daily(every: Int)
        /// ISO weekdays (1 = Monday), sorted and distinct; empty means the anchor's weekday.
        case weekly(every: Int, weekdays: [Int])
        /// Days of the month, sorted and distinct; empty means the anchor's day.
        case monthlyDays(every: Int, days: [Int])
        /// `ordinal` 1...4, or `Recurrence.last`; `weekday` ISO (1 = Monday); `offset` -6...6.
        case monthlyWeekday(every: Int, ordinal: Int, weekday: Int, offset: Int)
    }

    /// The ordinal of `Month Last Sunday`.
    static let last = -1

    /// Longer text cannot be a valid value (the longest sensible one, all seven weekdays
    /// spelled out, is under 80 bytes); refusing it before reading it keeps a 100 MB field cheap.
    static let maximumLength = 200

    /// What a valid value looks like, for messages about an unrecognisable one.
    static let examples = "like Day, 3Days, Week Saturday,Sunday, 2Weeks Monday, Month day1,day15, Month Last Sunday or Month Fourth Monday Offset3"

    /// Parses a `recurEvery` value; throws a message naming the offending word and what is
    /// allowed in its place.
    public init(parsing text: String) throws(InputProblem) {
        self.rule = try Self.parse(text)
        self.text = text
    }

    public var description: String { text }

    /// The local days on which occurrences start, from `from` through `through`, for a window
    /// whose first occurrence is on `anchor`; in order, without duplicates. Days before
    /// `anchor` never occur.
    public func days(anchor: CivilDate, from: CivilDate, through: CivilDate) -> [CivilDate] {
        let a = anchor.daysSinceEpoch
        let lo = max(from.daysSinceEpoch, a), hi = through.daysSinceEpoch
        guard lo <= hi else { return [] }
        var result: [Int64] = []

        switch rule {
        case .daily(let every):
            let n = Int64(every)
            // The first day of the cadence at or after `lo`; `lo >= a`, so the division is exact.
            var day = a + (lo - a + n - 1) / n * n
            while day <= hi {
                result.append(day)
                day += n
            }

        case .weekly(let every, let weekdays):
            let n = Int64(every)
            let chosen = weekdays.isEmpty ? [anchor.weekday] : weekdays
            let anchorMonday = a - Int64(anchor.weekday - 1)
            let loMonday = lo - Int64(CivilDate(daysSinceEpoch: lo).weekday - 1)
            // Whole weeks from the anchor's week to `lo`'s, rounded up to the cadence.
            let weeks = (loMonday - anchorMonday) / 7
            var monday = anchorMonday + (weeks + n - 1) / n * n * 7
            while monday <= hi {
                for weekday in chosen {
                    let day = monday + Int64(weekday - 1)
                    if day >= lo && day <= hi { result.append(day) }
                }
                monday += 7 * n
            }

        case .monthlyDays(let every, let days):
            let chosen = days.isEmpty ? [anchor.day] : days
            for (year, month) in Self.months(every: every, anchor: anchor, lo: lo, hi: hi, margin: 0) {
                let length = CivilDate.daysIn(month: month, year: year)
                // A day the month lacks (day31 in April) is skipped, not moved.
                for dayOfMonth in chosen where dayOfMonth <= length {
                    let day = CivilDate(year: year, month: month, day: dayOfMonth).daysSinceEpoch
                    if day >= lo && day <= hi { result.append(day) }
                }
            }

        case .monthlyWeekday(let every, let ordinal, let weekday, let offset):
            // An offset can carry a month's day into the neighbouring month, so look one month
            // beyond the range on either side.
            for (year, month) in Self.months(every: every, anchor: anchor, lo: lo, hi: hi, margin: 1) {
                let base = Self.weekday(weekday, ordinal: ordinal, year: year, month: month)
                let day = base.daysSinceEpoch + Int64(offset)
                if day >= lo && day <= hi { result.append(day) }
            }
        }
        // Every branch yields ascending, distinct days: weekdays and days of the month are
        // sorted and distinct, and a fixed offset keeps the months' days in order.
        return result.map { CivilDate(daysSinceEpoch: $0) }
    }

    /// The months of the cadence (the anchor's month, then every `every`th) that hold a day in
    /// `lo...hi`, widened by `margin` months on each side.
    private static func months(
        every: Int, anchor: CivilDate, lo: Int64, hi: Int64, margin: Int
    ) -> [(year: Int, month: Int)] {
        func index(_ day: Int64) -> Int {
            let date = CivilDate(daysSinceEpoch: day)
            return date.year * 12 + date.month - 1
        }
        let anchorIndex = anchor.year * 12 + anchor.month - 1
        let first = max(index(lo) - margin, anchorIndex), last = index(hi) + margin
        var month = anchorIndex + (first - anchorIndex + every - 1) / every * every
        var result: [(year: Int, month: Int)] = []
        while month <= last {
            result.append((month / 12, month % 12 + 1))
            month += every
        }
        return result
    }

    /// The `ordinal`th (or last) `weekday` of a month.
    static func weekday(_ weekday: Int, ordinal: Int, year: Int, month: Int) -> CivilDate {
        if ordinal == last {
            let length = CivilDate.daysIn(month: month, year: year)
            let lastWeekday = CivilDate(year: year, month: month, day: length).weekday
            return CivilDate(year: year, month: month, day: length - (lastWeekday - weekday + 7) % 7)
        }
        let firstWeekday = CivilDate(year: year, month: month, day: 1).weekday
        return CivilDate(year: year, month: month, day: 1 + (weekday - firstWeekday + 7) % 7 + 7 * (ordinal - 1))
    }

    // MARK: - Parsing

    private static let weekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    private static let ordinals = ["first": 1, "second": 2, "third": 3, "fourth": 4, "last": last]

    private static func parse(_ text: String) throws(InputProblem) -> Rule {
        guard text.utf8.count <= maximumLength else {
            throw InputProblem(
                "'\(text.truncatedForMessage)' is too long for a recurEvery value (at most \(maximumLength) characters, \(examples))")
        }
        // Commas and spaces both separate words; which one was used changes nothing.
        let words = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        guard let head = words.first else {
            throw InputProblem("'\(text.escapingControlCharacters)' is not a recurEvery value: it is empty (\(examples))")
        }
        func problem(_ word: Substring, _ what: String) -> InputProblem {
            InputProblem("'\(text.truncatedForMessage)': '\(word)' \(what)")
        }
        let rest = words.dropFirst()

        // The period: an optional count, then Day(s), Week(s) or Month(s).
        let digits = head.prefix(while: { $0.isASCII && $0.isNumber })
        let unit = head.dropFirst(digits.count).lowercased()
        guard ["day", "days", "week", "weeks", "month", "months"].contains(unit) else {
            throw problem(head, "is not a period (Day, Week or Month, with an optional count 1..999 like 3Days; \(examples))")
        }
        var every = 1
        if !digits.isEmpty {
            // At most three digits, so the conversion cannot overflow.
            guard digits.count <= 3, let n = Int(digits), n >= 1 else {
                throw problem(head, "has a count outside 1..999")
            }
            every = n
        }

        switch unit.first {
        case "d":
            if let extra = rest.first {
                throw problem(extra, "is not allowed after '\(String(head).escapingControlCharacters)': a daily recurrence names no days")
            }
            return .daily(every: every)

        case "w":
            var weekdays: Set<Int> = []
            for word in rest {
                guard let weekday = weekday(named: word) else {
                    throw problem(word, "is not a weekday (Monday..Sunday, or Mon..Sun)")
                }
                weekdays.insert(weekday)
            }
            return .weekly(every: every, weekdays: weekdays.sorted())

        default:
            guard let first = rest.first else { return .monthlyDays(every: every, days: []) }
            if let ordinal = ordinals[first.lowercased()] {
                let after = rest.dropFirst()
                guard let weekdayWord = after.first else {
                    throw problem(first, "must be followed by a weekday (Monday..Sunday), like Month \(first) Sunday")
                }
                guard let weekday = weekday(named: weekdayWord) else {
                    throw problem(weekdayWord, "is not a weekday (Monday..Sunday, or Mon..Sun)")
                }
                var offset = 0
                if let offsetWord = after.dropFirst().first {
                    offset = try parseOffset(offsetWord, problem: problem)
                }
                if let extra = after.dropFirst(2).first {
                    throw problem(extra, "is not allowed here: nothing may follow the offset")
                }
                return .monthlyWeekday(every: every, ordinal: ordinal, weekday: weekday, offset: offset)
            }
            var days: Set<Int> = []
            for word in rest {
                guard let day = dayOfMonth(word) else {
                    if weekday(named: word) != nil {
                        throw problem(word, "needs an ordinal before it (First, Second, Third, Fourth or Last), like Month Last \(word)")
                    }
                    if word.startIndex == first.startIndex {
                        throw problem(word, "is not a day of the month (day1..day31) or an ordinal (First, Second, Third, Fourth, Last)")
                    }
                    throw problem(word, "is not a day of the month (day1..day31)")
                }
                days.insert(day)
            }
            return .monthlyDays(every: every, days: days.sorted())
        }
    }

    /// `Monday` or `Mon`, any case, as an ISO weekday (1 = Monday).
    private static func weekday(named word: Substring) -> Int? {
        let name = word.lowercased()
        if let index = weekdayNames.firstIndex(of: name) { return index + 1 }
        if name.count == 3, let index = weekdayNames.firstIndex(where: { $0.hasPrefix(name) }) { return index + 1 }
        return nil
    }

    /// `day1` ... `day31`, any case.
    private static func dayOfMonth(_ word: Substring) -> Int? {
        let lower = word.lowercased()
        guard lower.hasPrefix("day") else { return nil }
        let number = lower.dropFirst(3)
        guard (1...2).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }),
              let day = Int(number), (1...31).contains(day) else { return nil }
        return day
    }

    /// `Offset3`, `Offset+3`, `Offset-2`: -6...6 days.
    private static func parseOffset(
        _ word: Substring, problem: (Substring, String) -> InputProblem
    ) throws(InputProblem) -> Int {
        let lower = word.lowercased()
        guard lower.hasPrefix("offset") else {
            throw problem(word, "is not allowed here: only an offset may follow the weekday (Offset-6..Offset+6, like Offset3)")
        }
        var number = lower.dropFirst(6)
        var sign = 1
        if let s = number.first, s == "+" || s == "-" {
            sign = s == "-" ? -1 : 1
            number = number.dropFirst()
        }
        // Two digits at most, so the conversion cannot overflow on `Offset99999999999999999999`.
        guard (1...2).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }),
              let magnitude = Int(number), magnitude <= 6 else {
            throw problem(word, "is not an offset of -6..+6 days (like Offset-2, Offset3 or Offset+3)")
        }
        return sign * magnitude
    }
}
