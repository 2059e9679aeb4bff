import Logging
import ServiceLifecycle
import Tracking

/// Signs custody-log checkpoints as the log grows: waits for the log to grow, signs at most once
/// per interval (sleeping out the rest of it when the log grew too soon), and signs a last one
/// at graceful shutdown so that every acknowledged event is covered by a signed checkpoint.
struct CheckpointSigner: Service, CustomStringConvertible {
  var description: String { "CheckpointSigner" }

  let checkpointer: Checkpointer
  let log: CustodyLog
  let feed: ChangeFeed
  let clock: any WallClock
  let logger: Logger

  func run() async {
    await self.signWhileServing()
    // Whatever ended the loop, the lease goes (another replica takes over at once).
    await self.checkpointer.resign()
  }

  private func signWhileServing() async {
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
      // Taken before the reads, so leaves appended meanwhile wake the signer at once.
      let position = self.feed.position()
      var deadline: Timestamp?
      do {
        if await self.checkpointer.isSigner() {
          try await self.sign(force: false)
          let latest = try await self.checkpointer.latestCheckpoint()
          if try await self.log.treeSize() > (latest?.checkpoint.size ?? 0) {
            deadline = try await self.checkpointer.nextSigningTime()
          }
        } else {
          // Another replica signs: stand by, and ask again each second to take over when
          // its lease ends.
          deadline = self.clock.now().advanced(by: .seconds(1))
        }
      } catch {
        // Shutting down cancels the store call: not a failure to report.
        if Task.isCancelled { return }
        self.logger.error(
          "checkpoint not signed",
          metadata: [
            "error": "\(error)",
            "error.cause": "\((error as? TrackingError)?.underlying ?? "")",
          ]
        )
        deadline = self.clock.now().advanced(by: .seconds(1))
      }
      let wakeAt = deadline
      await cancelWhenGracefulShutdown {
        await self.feed.wait(
          for: [.custodyLog],
          after: position,
          until: wakeAt,
          clock: self.clock
        )
      }
    }
    if Task.isShuttingDownGracefully, !Task.isCancelled, await self.checkpointer.isSigner() {
      try? await self.sign(force: true)
    }
  }

  private func sign(force: Bool) async throws {
    if let signed = try await self.checkpointer.signIfDue(now: self.clock.now(), force: force) {
      self.logger.debug(
        "checkpoint signed",
        metadata: ["custody.size": "\(signed.checkpoint.size)"]
      )
    }
  }
}
