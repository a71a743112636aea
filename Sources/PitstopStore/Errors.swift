// SQLite's refusals in an operator's words. No SQLite code, GRDB type or SQL text leaves the
// store: every error crossing the seam is a `PitstopError`.
import GRDB
import PitstopCore

/// Runs a write, turning a constraint SQLite refused into a conflict an operator can read.
func constrained<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
        throw PitstopError(.conflict, StoreMessages.describe(error))
    }
}

/// Turns a database error that reached the edge of the store into the one error shape; a busy
/// database at `databasePath` names the process that holds it, when the kernel can tell.
func translated(_ error: any Error, databasePath: String? = nil) -> any Error {
    guard let error = error as? DatabaseError else { return error }
    switch error.resultCode {
    case .SQLITE_BUSY, .SQLITE_LOCKED:
        return PitstopError.busy(databasePath: databasePath)
    case .SQLITE_CONSTRAINT:
        return PitstopError(.conflict, StoreMessages.describe(error))
    case .SQLITE_FULL:
        return PitstopError(.internal, "the disk is full: nothing was written; free some space and try again")
    case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH:
        // SQLite's words ("attempt to write a readonly database") add nothing the check does not.
        let file = databasePath.map { "\($0): " } ?? ""
        return PitstopError(.internal, "\(file)the database cannot be written: check that you may write the file and its directory")
    case .SQLITE_CORRUPT, .SQLITE_NOTADB:
        return PitstopError(.internal, "the database file is damaged or is not a database")
    default:
        return PitstopError(.internal, "the database failed: \(StoreMessages.plain(error))")
    }
}

extension PitstopError {
    /// Another process held the database at `databasePath` for longer than the busy timeout:
    /// named by its pid and command line when /proc/locks shows it (``LockHolders``).
    static func busy(databasePath: String?) -> PitstopError {
        let holder = databasePath.flatMap { LockHolders.describe(databasePath: $0) } ?? "another Pitstop process"
        return PitstopError(.busy, "the database is busy: \(holder) held it for longer than the \(AppDatabase.busyTimeoutSeconds) s busy timeout; try again")
    }
}

enum StoreMessages {
    /// A constraint failure, named by what it protects.
    static func describe(_ error: DatabaseError) -> String {
        let message = error.message ?? ""
        if message.contains("vms.ip_address") { return ConstraintRefusal.ipAddressTaken.message }
        if error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY { return ConstraintRefusal.missingReference.message }
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            return ConstraintRefusal.duplicate.message
        }
        // Triggers raise messages written for operators in the schema.
        if error.extendedResultCode == .SQLITE_CONSTRAINT_TRIGGER, !message.isEmpty { return ConstraintRefusal.schemaRule(message).message }
        return ConstraintRefusal.other.message
    }

    /// SQLite's own words for anything else, without codes or SQL.
    static func plain(_ error: DatabaseError) -> String {
        error.message ?? "an unknown error"
    }
}

/// A write the database's own constraints refused, in an operator's words: the same words
/// whichever engine refused it.
package enum ConstraintRefusal: Sendable {
    /// The unique index on VMs' IP addresses, when the VM that holds the address is unknown.
    case ipAddressTaken
    /// The unique index on VMs' IP addresses: `address` is `holder`'s.
    case addressHeld(String, by: String)
    /// A foreign key.
    case missingReference
    /// A primary key or unique constraint.
    case duplicate
    /// A trigger of the schema, with the message written there for operators.
    case schemaRule(String)
    /// A CHECK or NOT NULL constraint.
    case other

    package var message: String {
        switch self {
        case .ipAddressTaken: "ipAddress is already used by another VM"
        case .addressHeld(let address, let holder): "ipAddress \(address) is already used by VM \(holder)"
        case .missingReference: "refers to something that does not exist"
        case .duplicate: "a record with that name already exists"
        case .schemaRule(let message): message
        case .other: "the change breaks a rule of the stored fleet"
        }
    }
}
