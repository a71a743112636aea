// Cursor pagination for every list of the API. A cursor is the key of the last item of the
// previous page (a name, an id, a sequence number), base64url-encoded so that it is opaque
// and safe in a query string: a page starts after that key, so items added or removed
// between two requests never make a page repeat or skip the ones that stayed.
import Foundation
import PitstopCore
import PitstopService

struct Page<Item> {
    let items: [Item]
    /// The cursor of the next page, or nil on the last one.
    let next: String?
}

extension Page {
    /// The page of `all`, in the order of `key`, that `call`'s `limit` and `cursor` select.
    init(_ all: [Item], key: (Item) -> String, call: APICall) throws(PitstopError) {
        let all = all.sorted { key($0) < key($1) }
        let limit = try PageCursor.limit(call)
        let after = try PageCursor.position(call) { $0 }
        let start = after.map { a in all.firstIndex { key($0) > a } ?? all.endIndex } ?? all.startIndex
        let slice = all[start...].prefix(limit)
        items = Array(slice)
        next = slice.endIndex < all.endIndex ? slice.last.map { PageCursor.encode(key($0)) } : nil
    }

    /// The page `call` selects from items that `read` hands over in the order of `key`'s bytes
    /// (the order a store lists them in), as they are read. `read` is given the cursor's key
    /// (nil for the first page) and starts after it, so a page deep in the list costs what the
    /// first does. Only the page is kept, and the read is stopped once the page is full and
    /// one more item shows that a next page exists.
    /// `position` reads a cursor's key as the list's position (nil: not a key this list gives).
    static func streamed<Position>(key: @escaping @Sendable (Item) -> String, call: APICall, position: (String) -> Position?,
                                   _ read: (_ after: Position?, _ each: @escaping @Sendable (Item) throws -> Void) async throws -> Void) async throws -> Page
    where Item: Sendable {
        let limit = try PageCursor.limit(call)
        let after = try PageCursor.position(call, position)
        let taken = Taken<Item>()
        do {
            try await read(after) { item in
                guard taken.items.count < limit else { throw Taken<Item>.Full() }
                taken.items.append(item)
            }
            return Page(items: taken.items, next: nil)
        } catch is Taken<Item>.Full {
            return Page(items: taken.items, next: taken.items.last.map { PageCursor.encode(key($0)) })
        }
    }

    /// `{"KEY": [...], "next": "..."}`, `items` already rendered.
    func json(_ key: String, render: (Item) -> String) -> String {
        "{\(JSONText.quote(key)): \(Responses.list(items.map(render))),\n \"next\": \(JSONText.quote(next))}"
    }
}

/// A streamed page's items so far: appended by the one read that streams them, serially.
private final class Taken<Item>: @unchecked Sendable {
    var items: [Item] = []
    /// Thrown to stop the read: the page is full and has a next one.
    struct Full: Error {}
}

/// The cursor's text form, and the page size.
enum PageCursor {
    static let defaultLimit = 100
    static let maxLimit = 1000

    /// The `limit` query parameter, checked.
    static func limit(_ call: APICall) throws(PitstopError) -> Int {
        try call.integer("limit", in: 1...maxLimit, absent: defaultLimit)
    }

    /// What a cursor looks like: base64url without padding.
    static let pattern = "^[A-Za-z0-9_-]+$"

    static func encode(_ key: String) -> String { Base64URL.encode(Array(key.utf8)) }

    /// `call`'s cursor as the list's position, which `position` reads from the cursor's key
    /// (the base64url-decoded text); refused when the key is not one this list gives.
    static func position<Position>(_ call: APICall, _ position: (String) -> Position?) throws(PitstopError) -> Position? {
        guard let text = call.query("cursor") else { return nil }
        // Every key a page gives is a name or a sequence number, so it passes as a name.
        guard let data = Base64URL.decode(text), let key = String(data: data, encoding: .utf8),
              (try? InventoryRules.checkName(key)) != nil, let after = position(key) else { throw foreign(text) }
        return after
    }

    /// The refusal of a cursor `text` that no page of this list gave.
    private static func foreign(_ text: String) -> PitstopError {
        PitstopError(.invalid, "query parameter cursor: '\(text.truncatedForMessage)' is not a cursor this server gave; start again without one")
    }
}
