// `serve --simulate`: the simulated executor as a swift-service-lifecycle Service beside the
// HTTP server. Each tick is one `Simulator.step`; graceful shutdown ends the loop between
// transitions, each of which is its own transaction, so nothing is left half-written.
import Logging
import PitstopCore
import PitstopService
import ServiceLifecycle

struct SimulatorService: Service {
    let simulator: Simulator
    let clock: @Sendable () -> Timestamp
    let tick: Duration
    let logger: Logger

    func run() async throws {
        logger.info("simulator running", metadata: ["tick_ms": "\(tick.components.seconds * 1000 + tick.components.attoseconds / 1_000_000_000_000_000)"])
        await cancelWhenGracefulShutdown {
            var reported: Set<String> = []
            // One executor per database: this process steps only while it holds the lease,
            // and looks for it each tick while another holds it (or its holder died).
            var lease: Simulator.Lease?
            var standingBy = false
            while !Task.isCancelled {
                do {
                    if lease?.isHeld != true {
                        if lease != nil { logger.error("simulator lost its executor lease; looking for it again") }
                        let (taken, holder) = try await simulator.lease()
                        lease = taken
                        guard lease != nil else {
                            if !standingBy { logger.info("simulator standing by: another process executes", metadata: ["holder": "\(holder ?? "unknown")"]) }
                            standingBy = true
                            try? await Task.sleep(for: tick)
                            continue
                        }
                        if standingBy { logger.info("simulator took over executing") }
                        standingBy = false
                    }
                    let step = try await simulator.step(at: clock())
                    for wave in step.started { logger.info("wave started", metadata: ["wave": "\(wave)", "actor": "\(Simulator.actor)"]) }
                    for wave in step.completed { logger.info("wave completed", metadata: ["wave": "\(wave)", "actor": "\(Simulator.actor)"]) }
                    // A refused start is retried every tick; it is reported once.
                    for (wave, reason) in step.refused where reported.insert(wave).inserted {
                        logger.info("wave start refused; retrying", metadata: ["wave": "\(wave)", "reason": "\(reason)"])
                    }
                } catch let error as PitstopError {
                    logger.error("simulator step failed; retrying", metadata: ["error": "\(error.message)"])
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("simulator step failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: tick)
            }
            // Another server standing by takes over at its next tick.
            lease?.release()
        }
        logger.info("simulator stopped")
    }
}
