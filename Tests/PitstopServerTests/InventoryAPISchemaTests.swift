// Every inventory answer against its schema in /openapi.json, as schemathesis checks them in
// CI: every key present, nothing more, a null only where the schema allows it.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import Testing

/// What is wrong with `value` under `schema` (the subset of JSON Schema the document uses).
private func schemaProblems(_ value: Any, _ schema: [String: Any], _ components: [String: Any], at path: String = "$") -> [String] {
    if let ref = schema["$ref"] as? String {
        guard let target = components[String(ref.split(separator: "/").last!)] as? [String: Any] else { return ["\(path): no component \(ref)"] }
        return schemaProblems(value, target, components, at: path)
    }
    if let options = schema["oneOf"] as? [[String: Any]] {
        let matching = options.filter { schemaProblems(value, $0, components, at: path).isEmpty }.count
        return matching == 1 ? [] : ["\(path): \(value) matches \(matching) of oneOf"]
    }
    switch schema["type"] as? String {
    case "null":
        return value is NSNull ? [] : ["\(path): \(value) is not null"]
    case "string":
        guard let text = value as? String else { return ["\(path): \(value) is not a string"] }
        if let values = schema["enum"] as? [String], !values.contains(text) { return ["\(path): '\(text)' is not one of \(values)"] }
        if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
            return ["\(path): '\(text)' does not match \(pattern)"]
        }
        return []
    case "integer":
        guard !(value is String), !(value is NSNull), let n = value as? Int else { return ["\(path): \(value) is not an integer"] }
        if let minimum = schema["minimum"] as? Int, n < minimum { return ["\(path): \(n) < \(minimum)"] }
        if let maximum = schema["maximum"] as? Int, n > maximum { return ["\(path): \(n) > \(maximum)"] }
        return []
    case "boolean":
        return value is Bool ? [] : ["\(path): \(value) is not a boolean"]
    case "array":
        guard let items = value as? [Any] else { return ["\(path): \(value) is not an array"] }
        let item = schema["items"] as? [String: Any] ?? [:]
        return items.enumerated().flatMap { schemaProblems($1, item, components, at: "\(path)[\($0)]") }
    case "object":
        guard let object = value as? [String: Any] else { return ["\(path): \(value) is not an object"] }
        let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        var problems = (schema["required"] as? [String] ?? []).filter { object[$0] == nil }.map { "\(path).\($0): missing" }
        if schema["additionalProperties"] as? Bool == false {
            problems += object.keys.filter { properties[$0] == nil }.map { "\(path).\($0): not in the schema" }
        }
        for (key, member) in object { if let property = properties[key] { problems += schemaProblems(member, property, components, at: "\(path).\(key)") } }
        return problems
    default:
        return []
    }
}

@Suite struct InventoryAPISchemaTests {
    @Test func theCheckerFindsAMissingKeyAnUnlistedOneAndAnUnexpectedNull() {
        let schema: [String: Any] = ["type": "object", "properties": ["a": ["type": "string"], "b": ["type": "integer"]],
                                     "required": ["a", "b"], "additionalProperties": false]
        #expect(schemaProblems(["a": "x", "b": 1], schema, [:]).isEmpty)
        #expect(schemaProblems(["a": NSNull(), "c": 1], schema, [:]).sorted() == ["$.a: <null> is not a string", "$.b: missing", "$.c: not in the schema"])
    }

    @Test func everyInventoryAnswerMatchesItsDocumentedSchema() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let document = try jsonObject(try await client.execute(uri: "/openapi.json", method: .get))
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let components = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            // (method, template, uri, body): writes first, so that the reads find every kind of record.
            let requests: [(HTTPRequest.Method, String, String, String?)] = [
                (.post, "/api/v1/regions", "/api/v1/regions", #"{"name": "northeu"}"#),
                (.post, "/api/v1/region-pairs", "/api/v1/region-pairs", #"{"region": "northeu", "pairedWith": "eastus"}"#),
                (.post, "/api/v1/region-pairs", "/api/v1/region-pairs", #"{"region": "northeu", "pairedWith": "eastus"}"#),
                (.post, "/api/v1/subscriptions", "/api/v1/subscriptions", #"{"id": "fabrikam"}"#),
                (.post, "/api/v1/availability-sets", "/api/v1/availability-sets", #"{"name": "db", "region": "northeu", "subscription": "fabrikam"}"#),
                (.post, "/api/v1/vms", "/api/v1/vms", #"{"name": "db-0", "availabilitySet": "db"}"#),
                (.patch, "/api/v1/vms/{name}", "/api/v1/vms/db-0", #"{"availabilitySet": null}"#),
                (.post, "/api/v1/windows", "/api/v1/windows", #"{"name": "w", "availabilitySet": "web", "start": "2026-11-14T22:00:00", "timeZone": "UTC", "duration": "PT4H", "recurEvery": "Week Saturday"}"#),
                (.post, "/api/v1/blackouts", "/api/v1/blackouts", #"{"name": "b", "start": "2026-11-21T23:00:00Z", "end": "2026-11-22T01:00:00Z"}"#),
                (.post, "/api/v1/inventory/import", "/api/v1/inventory/import", #"{"regions": [{"name": "southeu", "displayName": "South"}]}"#),
                (.get, "/api/v1/inventory", "/api/v1/inventory", nil),
                (.get, "/api/v1/inventory/summary", "/api/v1/inventory/summary", nil),
                (.get, "/api/v1/regions", "/api/v1/regions", nil),
                (.get, "/api/v1/regions/{name}", "/api/v1/regions/eastus", nil),
                (.get, "/api/v1/region-pairs", "/api/v1/region-pairs", nil),
                (.get, "/api/v1/subscriptions", "/api/v1/subscriptions?limit=1", nil),
                (.get, "/api/v1/subscriptions/{id}", "/api/v1/subscriptions/contoso", nil),
                (.get, "/api/v1/availability-sets", "/api/v1/availability-sets", nil),
                (.get, "/api/v1/availability-sets/{name}", "/api/v1/availability-sets/web", nil),
                (.get, "/api/v1/vms", "/api/v1/vms?limit=5", nil),
                (.get, "/api/v1/vms/{name}", "/api/v1/vms/quiet", nil),
                (.get, "/api/v1/vms/{name}", "/api/v1/vms/web-0", nil),
                (.get, "/api/v1/windows", "/api/v1/windows", nil),
                (.get, "/api/v1/windows/{name}", "/api/v1/windows/w", nil),
                (.get, "/api/v1/blackouts", "/api/v1/blackouts", nil),
                (.get, "/api/v1/window-occurrences", "/api/v1/window-occurrences?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", nil),
                (.get, "/api/v1/regions/{name}", "/api/v1/regions/nowhere", nil),
                (.post, "/api/v1/vms", "/api/v1/vms", #"{"name": "x", "colour": "red"}"#),
                (.post, "/api/v1/inventory/import", "/api/v1/inventory/import", #"{"vms": [{"name": "x", "updateDomain": -1}]}"#),
                (.delete, "/api/v1/vms/{name}", "/api/v1/vms/db-0", nil),
            ]
            var checked = 0
            for (method, template, uri, body) in requests {
                let response = try await client.execute(uri: uri, method: method, headers: bearer(.operator, body == nil ? [] : [("Content-Type", "application/json")]),
                                                        body: body.map { ByteBuffer(string: $0) })
                let operation = try #require(paths[template]?[method.rawValue.lowercased()] as? [String: Any], "\(method) \(template) is documented")
                let answers = try #require(operation["responses"] as? [String: [String: Any]])
                let answer = try #require(answers[String(response.status.code)] ?? (response.status.code >= 400 ? answers["default"] : nil),
                                          "\(method) \(uri): status \(response.status.code) is documented")
                guard let content = answer["content"] as? [String: [String: Any]] else {
                    #expect(response.body.readableBytes == 0, "\(method) \(uri): no content documented")
                    continue
                }
                let schema = try #require(content["application/json"]?["schema"] as? [String: Any])
                let value = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
                let problems = schemaProblems(value, schema, components)
                #expect(problems.isEmpty, "\(method) \(uri) \(response.status.code): \(problems)")
                checked += 1
            }
            #expect(checked == requests.count - 1, "all but the DELETE answer JSON")
        }
    }
}
