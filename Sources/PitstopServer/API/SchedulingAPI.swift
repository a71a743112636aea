enum SchedulingAPI { static let operations: [APIOperation] = [] }
enum AuditAPI { static let operations: [APIOperation] = [] }
