// The simulated executor of `pitstop serve --simulate`: it carries plans out by itself, every
// transition through the same guarded lifecycle as `pitstop event start`, audited as `simulator`.
// It keeps no state of its own: each step reads what is due from the database, so a restart
// mid-wave resumes where the last one stopped and nothing runs twice.
public import PitstopCore
public import PitstopStore

public struct Simulator: Sendable {
    public let store: any Store

    /// The actor its transitions are audited with.
    public static let actor = "simulator"

    /// How far ahead a step looks for approved waves that may start early.
    public static let lookAhead: Int64 = 86_400

    public init(store: any Store) {
        self.store = store
    }

    /// The right to execute: one process at a time carries plans out on a database, however
    /// many serve it (`serve --simulate` on several machines). Held until released, or until
    /// its process ends; another process then takes it over on its next tick.
    public final class Lease: Sendable {
        private let held: any HeldLock
        init(_ held: any HeldLock) { self.held = held }
        /// False once the lock was lost (its database connection dropped) or let go: stop executing.
        public var isHeld: Bool { held.isHeld }
        /// Lets another process take over now.
        public func release() { held.release() }
    }

    /// Takes the executor's lease if no process holds it; nil, and a description of the
    /// holder, when one does.
    public func lease() async throws -> (lease: Lease?, holder: String?) {
        switch try await store.tryLock("executor") {
        case .acquired(let held): (Lease(held), nil)
        case .heldElsewhere(let pid, let place): (nil, "\(pid.map { "pid \($0)" } ?? "another process"): \(place)")
        }
    }

    /// What one step did.
    public struct Step: Sendable {
        /// Waves started, and completed, by this step.
        public var started: [String] = []
        public var completed: [String] = []
        /// Waves whose start the guard refused, with why; they are tried again next step,
        /// never forced.
        public var refused: [(wave: String, reason: String)] = []
    }

    /// Carries the plan forward to `now`: completes each started wave whose planned duration
    /// has run since it actually started (recorded at that instant, so a freeze is never
    /// longer than planned), then starts each scheduled wave that is due: at its planned
    /// start, or earlier once approved, if guarded execution allows it.
    public func step(at now: Timestamp) async throws -> Step {
        let records = try await store.read { tx in try tx.scheduledEvents.activeEvents(startingBy: now + Self.lookAhead) }
        var order: [String] = [], waves: [String: [EventRecord]] = [:]
        for r in records {
            if waves[r.event.wave] == nil { order.append(r.event.wave) }
            waves[r.event.wave, default: []].append(r)
        }
        let lifecycle = LifecycleService(store: store)
        var step = Step()
        for wave in order {
            let members = waves[wave]!
            let running = members.filter { $0.event.status == .started }
            if let end = running.compactMap({ r in r.actualStart.map { $0 + r.event.range.duration } }).max(), end <= now {
                // Every member that ran ends together; one that started alone is ended on its own.
                do {
                    try await lifecycle.complete(.wave(wave), at: end, actor: Self.actor)
                } catch let error as PitstopError where error.kind == .invalid {
                    for r in running { try await lifecycle.complete(.event(r.event.id), at: end, actor: Self.actor) }
                }
                step.completed.append(wave)
                continue
            }
            let waiting = members.filter { $0.event.status == .scheduled }
            guard let first = waiting.first?.event, running.isEmpty,
                  first.range.start <= now || waiting.contains(where: { $0.approvedAt != nil }) else { continue }
            do {
                try await lifecycle.start(.wave(wave), at: now, actor: Self.actor)
                step.started.append(wave)
            } catch let error as PitstopError where error.kind == .refused {
                step.refused.append((wave, error.message))
            } catch let error as PitstopError where error.kind == .invalid {
                // Moved on between the read and the start (an operator was quicker): nothing to do.
                continue
            }
        }
        return step
    }
}
