import GRDB
import Synchronization
import Tracking

/// How writes that arrive together share a transaction.
public struct GroupCommitSettings: Hashable, Sendable {
  /// How long the first write after a quiet spell waits for company before its transaction
  /// starts. Writes that arrive while a transaction runs do not wait again: they go in the next
  /// one as soon as it ends. Zero: never wait.
  public var maximumWait: Duration
  /// The most writes one transaction carries.
  public var maximumBatch: Int

  /// Creates settings.
  public init(maximumWait: Duration = .zero, maximumBatch: Int = 256) {
    self.maximumWait = maximumWait
    self.maximumBatch = max(1, maximumBatch)
  }

  /// One write per transaction, as before group commit (for baselines).
  public static let off = GroupCommitSettings(maximumWait: .zero, maximumBatch: 1)
}

/// Shares one transaction, and so one fsync, among concurrent writes.
///
/// Writes queue in the order they arrive; one drain at a time takes up to
/// ``GroupCommitSettings/maximumBatch`` of them and runs each in its own savepoint of one
/// transaction, in that order. A write whose body throws rolls back to its savepoint and fails
/// alone; the others commit. Every caller is answered only after the transaction that carries
/// its write has committed (or failed), so an acknowledged write is durable. If the database
/// loses the transaction itself (an I/O error rolls it back), every write of the batch fails.
final class GroupCommit: Sendable {
  /// One queued write, type-erased: runs its body in a savepoint, then learns how the
  /// transaction ended.
  private struct Pending: Sendable {
    /// Returns the body's error, if it threw.
    var run: @Sendable (Database) -> (any Error)?
    var finish: @Sendable ((any Error)?) -> Void
  }

  private struct State {
    var queue: [Pending] = []
    var draining = false
    /// Writes queued since the committer was made, and who waits for a number of them.
    var submitted = 0
    var submissionWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
  }

  /// What a write's body produced inside the transaction, kept until the commit.
  private final class Outcome<T: Sendable>: Sendable {
    let result = Mutex<Result<T, any Error>?>(nil)
  }

  /// The transaction ended without its changes and without an error to say why.
  struct TransactionLost: Error, CustomStringConvertible {
    var cause: String
    var description: String { "the transaction was rolled back by the database: \(self.cause)" }
  }

  private let writer: any DatabaseWriter
  private let settings: GroupCommitSettings
  private let sleep: @Sendable (Duration) async throws -> Void
  private let state = Mutex(State())

  /// Creates a committer over a database.
  /// - Parameters:
  ///   - writer: The database whose writer runs the transactions.
  ///   - settings: How long to wait and how many writes to carry.
  ///   - sleep: How the first write waits (real time by default; tests give a manual clock).
  init(
    writer: any DatabaseWriter,
    settings: GroupCommitSettings,
    sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
  ) {
    self.writer = writer
    self.settings = settings
    self.sleep = sleep
  }

  /// Runs `body` in a transaction shared with the writes queued beside it; returns once that
  /// transaction has committed.
  /// - Throws: what `body` threw (its changes rolled back, the batch unharmed), or the
  ///   database's error when the transaction could not commit.
  func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
    let outcome = Outcome<T>()
    return try await withCheckedThrowingContinuation { continuation in
      let pending = Pending(
        run: { db in
          var value: T?
          do {
            try db.inSavepoint {
              value = try body(db)
              return .commit
            }
            outcome.result.withLock { $0 = value.map { .success($0) } }
            return nil
          } catch {
            outcome.result.withLock { $0 = .failure(error) }
            return error
          }
        },
        finish: { transactionError in
          if let transactionError {
            continuation.resume(throwing: transactionError)
          } else {
            let result = outcome.result.withLock { $0 }
            continuation.resume(with: result ?? .failure(TransactionLost(cause: "not run")))
          }
        }
      )
      let (startsDrain, waiters) = self.state.withLock {
        state -> (Bool, [CheckedContinuation<Void, Never>]) in
        state.queue.append(pending)
        state.submitted += 1
        let submitted = state.submitted
        let ready = state.submissionWaiters.filter { $0.count <= submitted }.map(\.continuation)
        state.submissionWaiters.removeAll { $0.count <= submitted }
        if state.draining { return (false, ready) }
        state.draining = true
        return (true, ready)
      }
      for waiter in waiters { waiter.resume() }
      if startsDrain {
        Task { await self.drain() }
      }
    }
  }

  /// Suspends until `count` writes have been queued since the committer was made (for tests
  /// that decide which writes share a batch).
  func waitUntilQueued(_ count: Int) async {
    await withCheckedContinuation { continuation in
      let ready = self.state.withLock { state -> Bool in
        if state.submitted >= count { return true }
        state.submissionWaiters.append((count, continuation))
        return false
      }
      if ready { continuation.resume() }
    }
  }

  /// Runs batches until the queue is empty. Only the first batch after a quiet spell waits.
  private func drain() async {
    if self.settings.maximumWait > .zero, self.settings.maximumBatch > 1 {
      let full = self.state.withLock { $0.queue.count >= self.settings.maximumBatch }
      if !full { try? await self.sleep(self.settings.maximumWait) }
    }
    while true {
      let batch = self.state.withLock { state -> [Pending] in
        let batch = Array(state.queue.prefix(self.settings.maximumBatch))
        state.queue.removeFirst(batch.count)
        if batch.isEmpty { state.draining = false }
        return batch
      }
      if batch.isEmpty { return }
      await self.commit(batch)
    }
  }

  private func commit(_ batch: [Pending]) async {
    do {
      try await self.writer.write { db in
        for pending in batch {
          let failure = pending.run(db)
          // An I/O error or a full disk can make SQLite roll the whole transaction back: what
          // ran before it is gone, and what follows must not run outside a transaction. The
          // batch fails with the database's error.
          guard db.isInsideTransaction else {
            throw failure ?? TransactionLost(cause: "after a write")
          }
        }
      }
    } catch {
      for pending in batch { pending.finish(error) }
      return
    }
    for pending in batch { pending.finish(nil) }
  }
}
