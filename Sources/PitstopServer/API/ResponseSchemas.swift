// The schema of each JSON shape `Responses` writes, as components of the OpenAPI document. A
// shape and its schema change together: the API tests validate real answers against these,
// and schemathesis checks every operation's answers against them in CI.
import PitstopCore

enum ResponseSchemas {
    static let kinds: [String] = ["reboot", "freeze"]
    static let statuses: [String] = ["scheduled", "started", "completed", "failed", "cancelled"]

    static let components: [(String, Schema)] = [
        ("Error", .record([
            ("error", .string(description: "The kind: bad-request, unauthenticated, forbidden, not-found, conflict, refused, busy, unavailable, internal, or the HTTP reason.")),
            ("message", .text),
            ("place", .nullable(.string(description: "Where the bad input was: FILE:LINE: field, the first of problems."))),
            ("problems", .array(.record([
                ("file", .text), ("line", .nullable(.integer(minimum: 1))), ("field", .nullable(.text)), ("message", .text),
            ]))),
            ("conflicts", .array(.text, description: "The events a refused start would clash with.")),
        ])),
        ("Region", .record([("name", .name), ("displayName", .nullable(.text)), ("pairedWith", .array(.name))])),
        ("RegionPair", .record([("region", .name), ("pairedWith", .name)])),
        ("Subscription", .record([("id", .name), ("admins", .array(.text)), ("coAdmins", .array(.text)), ("noticeTimeZone", .text)])),
        ("AvailabilitySet", .record([
            ("name", .name), ("region", .name), ("subscription", .name),
            ("faultDomains", .integer(minimum: 1)), ("updateDomains", .integer(minimum: 1)),
        ])),
        ("VM", .record([
            ("name", .name), ("region", .name), ("subscription", .name), ("availabilitySet", .nullable(.name)),
            ("updateDomain", .nullable(.integer(minimum: 0))), ("faultDomain", .nullable(.integer(minimum: 0))),
            ("ipAddress", .nullable(.text)),
        ])),
        ("Window", .record([
            ("name", .name), ("region", .nullable(.name)), ("availabilitySet", .nullable(.name)),
            ("start", .string(description: "Local date and time in timeZone")), ("timeZone", .text), ("duration", .text),
            ("recurEvery", .nullable(.text)), ("expires", .nullable(.text)),
        ])),
        ("Blackout", .record([("name", .name), ("region", .nullable(.name)), ("start", .instant), ("end", .instant)])),
        ("RegionSummary", .record([
            ("region", .name), ("displayName", .nullable(.text)), ("pairedWith", .array(.name)),
            ("availabilitySets", .integer(minimum: 0)), ("vms", .integer(minimum: 0)), ("singleInstanceVMs", .integer(minimum: 0)),
            ("vmsByUpdateDomain", .array(.integer(minimum: 0))), ("vmsByFaultDomain", .array(.integer(minimum: 0))),
            ("warnings", .array(.text)),
        ])),
        ("WindowOccurrence", .record([
            ("window", .name), ("appliesTo", .text), ("start", .instant), ("end", .instant), ("timeZone", .text),
            ("localStart", .text), ("localEnd", .text),
            ("usable", .array(.record([("start", .instant), ("end", .instant)]))), ("blackouts", .array(.name)),
        ])),
        ("Event", .record(eventProperties)),
        ("UpcomingEvent", .record(eventProperties + [("window", .nullable(.name))])),
        ("EventDetail", .record(eventProperties + [
            ("plannedAt", .instant), ("earliestStart", .instant), ("approvedAt", .nullable(.instant)),
            ("actualStart", .nullable(.instant)), ("actualEnd", .nullable(.instant)), ("forced", .boolean()),
            ("reason", .nullable(.text)), ("waveEvents", .integer(minimum: 1)),
        ])),
        ("EventRecord", .record(eventProperties + [
            ("approvedAt", .nullable(.instant)), ("actualStart", .nullable(.instant)), ("actualEnd", .nullable(.instant)),
            ("forced", .boolean()), ("reason", .nullable(.text)),
        ])),
        ("Campaign", .record(campaignProperties)),
        ("CampaignSummary", .record(campaignProperties + [("events", .integer(minimum: 0)), ("activeEvents", .integer(minimum: 0))])),
        ("TurnOrder", .record([
            ("regions", .array(.name)), ("exhaustive", .boolean()),
            ("chosen", .record([("turns", .array(.array(.name))), ("end", .nullable(.instant))])),
            ("others", .array(.record([("turns", .array(.array(.name))), ("end", .nullable(.instant)), ("laterSeconds", .nullable(.integer()))]))),
        ])),
        ("CampaignNotice", .record([("subscription", .name), ("recipients", .array(.text)), ("queuedAt", .instant), ("sentAt", .nullable(.instant))])),
        ("Violation", .record([("rule", .text), ("message", .text), ("events", .array(.text)), ("regions", .array(.name)), ("at", .instant)])),
        ("Finding", .record([("rule", .text), ("message", .text), ("events", .array(.text)), ("at", .instant)])),
        ("Notice", .record([
            ("id", .integer(minimum: 1)), ("campaign", .text), ("subscription", .name), ("recipients", .array(.text)),
            ("subject", .text), ("state", .text), ("messageId", .text), ("queuedAt", .instant), ("firstStart", .instant),
            ("sentAt", .nullable(.instant)), ("attempts", .integer(minimum: 0)), ("lastError", .nullable(.text)),
        ])),
        ("ReportLine", .object([
            ("name", .nullable(.name)), ("region", .name), ("singleInstance", .boolean()), ("events", .integer(minimum: 0)),
            ("byKind", .record([("freeze", .integer(minimum: 0)), ("reboot", .integer(minimum: 0))])),
            ("byOutcome", .record(["completed", "failed", "cancelled", "started", "scheduled"].map { ($0, .integer(minimum: 0)) })),
            ("plannedDowntimeSeconds", .integer(minimum: 0)), ("actualDowntimeSeconds", .integer(minimum: 0)),
            ("longestFreezeSeconds", .nullable(.integer(minimum: 0))), ("longestFreezeEvent", .nullable(.text)),
            ("findings", .integer(minimum: 0)),
        ], required: ["name", "events", "byKind", "byOutcome", "plannedDowntimeSeconds", "actualDowntimeSeconds",
                      "longestFreezeSeconds", "longestFreezeEvent", "findings"])),
        ("AuditEntry", .record([
            ("seq", .integer(minimum: 1)), ("at", .instant), ("actor", .text), ("action", .text),
            ("subjects", .array(.record([("kind", .text), ("name", .text)]))),
            ("details", .object([], required: [], open: true)), ("prevHash", .text), ("hash", .text),
        ])),
        ("TimelineWave", .record([
            ("id", .text), ("campaign", .text), ("kind", .string(values: kinds)), ("region", .name),
            ("availabilitySet", .nullable(.name)), ("updateDomain", .nullable(.integer(minimum: 0))),
            ("status", .string(values: statuses, description: "The wave's one status; when its events differ: started if any runs, else scheduled if any waits, else failed, completed, cancelled.")),
            ("mixed", .boolean(description: "Its events have more than one status: see statusCounts.")),
            ("approved", .boolean(description: "Some event is approved and no scheduled one is not.")),
            ("start", .instant), ("end", .instant), ("actualStart", .nullable(.instant)), ("actualEnd", .nullable(.instant)),
            ("vms", .integer(minimum: 1)),
            ("statusCounts", .object(statuses.map { ($0, Schema.integer(minimum: 1)) }, required: [])),
        ])),
        ("Timeline", .record([
            ("from", .instant), ("to", .instant),
            ("regions", .array(.record([("name", .name), ("displayName", .nullable(.text)), ("pairedWith", .array(.name)),
                                        ("group", .integer(minimum: 0, description: "Regions linked by pairs share a group."))]))),
            ("waves", .array(.ref("TimelineWave"))),
            ("windows", .array(.record([
                ("window", .name), ("appliesTo", .text), ("region", .nullable(.name)), ("start", .instant), ("end", .instant),
                ("blackouts", .array(.name)),
            ]))),
            // A blackout without a region covers the whole fleet.
            ("blackouts", .array(.ref("Blackout"))),
        ])),
        ("WaveDetail", .record([("wave", .ref("TimelineWave")), ("events", .array(.ref("EventDetail")))])),
        ("RegionRecord", .record([("name", .name), ("displayName", .nullable(.text))], description: "A region as the inventory document holds it.")),
        ("Inventory", .record([
            ("regions", .array(.ref("RegionRecord"))), ("regionPairs", .array(.ref("RegionPair"))),
            ("subscriptions", .array(.ref("Subscription"))), ("availabilitySets", .array(.ref("AvailabilitySet"))),
            ("vms", .array(.ref("VM"))), ("maintenanceWindows", .array(.ref("Window"))), ("blackouts", .array(.ref("Blackout"))),
        ], description: "The inventory document, as `pitstop export` writes it and an import reads it.")),
        ("AvailabilitySetDetail", .record([("availabilitySet", .ref("AvailabilitySet")), ("vms", .array(.ref("VM")))])),
        ("UpsertCounts", .record([("added", .integer(minimum: 0)), ("updated", .integer(minimum: 0)), ("unchanged", .integer(minimum: 0))])),
        ("ImportSummary", .record(InventoryDocument.topLevelKeys.map { ($0, .ref("UpsertCounts")) }, description: "Per kind, how many records the import added, updated or left unchanged.")),
    ]

    static let eventProperties: [(String, Schema)] = [
        ("id", .string(description: "WAVE/VM")), ("campaign", .text), ("vm", .name), ("region", .name),
        ("availabilitySet", .nullable(.name)), ("updateDomain", .nullable(.integer(minimum: 0))), ("faultDomain", .nullable(.integer(minimum: 0))),
        ("wave", .text), ("kind", .string(values: kinds)), ("start", .instant), ("end", .instant), ("status", .string(values: statuses)),
    ]

    static let campaignProperties: [(String, Schema)] = [
        ("id", .text), ("kind", .string(values: kinds)), ("status", .string(values: ["scheduled", "cancelled", "dry-run"])),
        ("createdAt", .instant), ("notBefore", .instant), ("regions", .array(.name)),
        ("start", .nullable(.instant)), ("end", .nullable(.instant)), ("description", .text),
        ("perVMSeconds", .integer(minimum: 1)), ("udGapSeconds", .integer(minimum: 0)),
    ]

    /// `{"KEY": [ITEM], "next": cursor}`: a page of a list.
    static func page(_ key: String, of item: Schema) -> Schema {
        .record([(key, .array(item)), ("next", .nullable(.string(pattern: PageCursor.pattern)))])
    }
}
