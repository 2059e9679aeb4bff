import GRPCCore
import Tracking

extension ChangeFeed {
  /// Waits, for a server stream, until one of `topics` changes after `position`, the stream's
  /// caller goes away (gRPC reports that through the context, not by cancelling the task), or
  /// the gateway begins to stop.
  func wait(
    for topics: Set<StoreTopic>,
    after position: Position,
    orUntilCancelled context: ServerContext
  ) async {
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await self.wait(for: topics, after: position, endingAtShutdown: true) }
      group.addTask { try? await context.cancellation.cancelled }
      await group.next()
      group.cancelAll()
    }
  }

  /// Whether a server stream should keep going.
  func keepsStreaming(_ context: ServerContext) -> Bool {
    !Task.isCancelled && !context.cancellation.isCancelled && !self.isShuttingDown
  }
}
