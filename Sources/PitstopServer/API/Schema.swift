// JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), as much of it as Pitstop's shapes
// need. Each response shape of `Responses` has its schema in ResponseSchemas.swift; the
// OpenAPI document is rendered from these values, never written by hand.
import PitstopCore

/// A JSON Schema.
indirect enum Schema: Sendable {
    case string(format: String? = nil, pattern: String? = nil, values: [String]? = nil, description: String? = nil)
    case integer(minimum: Int? = nil, maximum: Int? = nil, description: String? = nil)
    case boolean(description: String? = nil)
    case array(Schema, description: String? = nil)
    /// Every property listed; `required` are those always present. No others are allowed
    /// unless `open`.
    case object([(String, Schema)], required: [String], open: Bool = false, description: String? = nil)
    /// The schema or `null`.
    case nullable(Schema)
    /// A component of the document: `#/components/schemas/NAME`.
    case ref(String)

    /// An object whose every property is always present, the way `Responses` writes them
    /// (an absent value is `null`, never a missing key).
    static func record(_ properties: [(String, Schema)], description: String? = nil) -> Schema {
        .object(properties, required: properties.map(\.0), description: description)
    }

    /// This object schema with only `keys` required.
    func requiring(_ keys: [String]) -> Schema {
        guard case .object(let properties, _, let open, let description) = self else { return self }
        return .object(properties, required: keys, open: open, description: description)
    }

    static let text = Schema.string()
    static let instant = Schema.string(format: "date-time", description: "ISO 8601 with an offset")
    static let name = Schema.string(pattern: #"^\S(.*\S)?$"#)

    /// The schema as JSON text.
    var json: String {
        switch self {
        case .string(let format, let pattern, let values, let description):
            return JSONText.object([("type", "\"string\"")]
                + (format.map { [("format", JSONText.quote($0))] } ?? [])
                + (pattern.map { [("pattern", JSONText.quote($0))] } ?? [])
                + (values.map { [("enum", JSONText.array($0.map(JSONText.quote)))] } ?? [])
                + Self.described(description))
        case .integer(let minimum, let maximum, let description):
            return JSONText.object([("type", "\"integer\"")]
                + (minimum.map { [("minimum", "\($0)")] } ?? [])
                + (maximum.map { [("maximum", "\($0)")] } ?? [])
                + Self.described(description))
        case .boolean(let description):
            return JSONText.object([("type", "\"boolean\"")] + Self.described(description))
        case .array(let items, let description):
            return JSONText.object([("type", "\"array\""), ("items", items.json)] + Self.described(description))
        case .object(let properties, let required, let open, let description):
            return JSONText.object([
                ("type", "\"object\""),
                ("properties", JSONText.object(properties.map { ($0.0, $0.1.json) })),
                ("required", JSONText.array(required.map(JSONText.quote))),
                ("additionalProperties", open ? "true" : "false"),
            ] + Self.described(description))
        case .nullable(let schema):
            return JSONText.object([("oneOf", JSONText.array([schema.json, "{\"type\": \"null\"}"]))])
        case .ref(let name):
            return JSONText.object([("$ref", JSONText.quote("#/components/schemas/\(name)"))])
        }
    }

    private static func described(_ description: String?) -> [(String, String)] {
        description.map { [("description", JSONText.quote($0))] } ?? []
    }
}
