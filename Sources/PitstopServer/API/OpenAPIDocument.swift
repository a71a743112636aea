// `/openapi.json`: the OpenAPI 3.1 document of the API, rendered from the same operation values
// the router mounts (see APIOperation.swift), so a route without a document entry, or an entry
// without a route, cannot exist.
import PitstopCore
import PitstopService

enum OpenAPIDocument {
    /// The document's JSON text.
    static func json(_ operations: [APIOperation], version: String) -> String {
        var paths: [(String, [APIOperation])] = []
        for op in operations {
            if let i = paths.firstIndex(where: { $0.0 == op.path }) { paths[i].1.append(op) } else { paths.append((op.path, [op])) }
        }
        let info = JSONText.object([
            ("title", JSONText.quote("Pitstop")), ("version", JSONText.quote(version)),
            ("description", JSONText.quote("Planned maintenance for a fleet of virtual machines. Every request carries "
                + "`Authorization: Bearer TOKEN` (`pitstop token create`); a viewer reads, an executor also moves events "
                + "through their lifecycle, an operator does everything. Errors are one shape: `Error`.")),
        ])
        let security = JSONText.object([("bearer", JSONText.object([("type", "\"http\""), ("scheme", "\"bearer\"")]))])
        let components = JSONText.object([
            ("schemas", JSONText.object(ResponseSchemas.components.map { ($0.0, $0.1.json) })),
            ("securitySchemes", security),
        ])
        return JSONText.object([
            ("openapi", "\"3.1.0\""), ("info", info),
            ("security", "[{\"bearer\": []}]"),
            ("paths", JSONText.object(paths.map { path, ops in
                (path, JSONText.object(ops.map { (String(describing: $0.method).lowercased(), operation($0)) }))
            })),
            ("components", components),
        ]) + "\n"
    }

    private static func operation(_ op: APIOperation) -> String {
        var members: [(String, String)] = [
            ("operationId", JSONText.quote(op.id)), ("summary", JSONText.quote(op.summary)),
            ("tags", JSONText.array([JSONText.quote(op.tag)])),
            ("x-pitstop-role", JSONText.quote(op.role.rawValue)),
        ]
        if !op.parameters.isEmpty {
            members.append(("parameters", JSONText.array(op.parameters.map { p in
                JSONText.object([
                    ("name", JSONText.quote(p.name)), ("in", JSONText.quote(p.location.rawValue)),
                    ("required", p.required ? "true" : "false"), ("description", JSONText.quote(p.description)),
                    ("schema", p.schema.json),
                ])
            })))
        }
        if let body = op.body {
            members.append(("requestBody", JSONText.object([
                ("required", body.required ? "true" : "false"), ("content", content(body.content)),
            ])))
        }
        var responses = op.responses.map { answer in
            (String(answer.status), JSONText.object([("description", JSONText.quote(answer.description))]
                + (answer.content.isEmpty ? [] : [("content", content(answer.content))])))
        }
        responses.append(("default", JSONText.object([
            ("description", JSONText.quote("An error: 400 bad input, 401 no or unknown token, 403 the token's role may not, 404 not found, "
                + "405 method not served, 409 a conflict or a rule refuses (with the conflicting events), 413 body too large, "
                + "503 the database busy or not reachable (with Retry-After).")),
            ("content", content([.json(.ref("Error"))])),
        ])))
        members.append(("responses", JSONText.object(responses)))
        return JSONText.object(members)
    }

    private static func content(_ items: [APIContent]) -> String {
        JSONText.object(items.map { ($0.mediaType, JSONText.object([("schema", $0.schema.json)])) })
    }
}
