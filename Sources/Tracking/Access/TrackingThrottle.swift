import Synchronization

/// Limits failed tracking attempts, so that codes cannot be guessed and nobody can lock a
/// citizen out.
///
/// - Per number **and client address**: after `maximumFailures` failures within `window`, that
///   client's attempts for that number (right or wrong: no oracle) are refused until the window
///   has passed since the first of them. A success resets the client's count. Other clients are
///   not affected, so wrong codes sent from one address do not lock out the citizen at another.
/// - Per number, from every client: after `maximumFailuresPerNumber` failures within `window`,
///   the number is **slowed**, not locked: one attempt per `slowInterval` is let through, from
///   whoever asks first, until the window has passed.
///
/// Failures count per *requested* number, whether or not it exists, so that the throttle does
/// not reveal which numbers are real. State is in memory and bounded: a restart forgets it.
public final class TrackingThrottle: Sendable {
  private struct Window {
    var start: Timestamp
    var failures: Int
  }

  private struct NumberWindow {
    var window: Window
    var lastAdmitted: Timestamp?
  }

  private struct State {
    var clients: [String: Window] = [:]
    var numbers: [String: NumberWindow] = [:]
    var refusals = Refusals()
  }

  /// How many attempts the throttle has refused since it was created, by cause.
  public struct Refusals: Hashable, Sendable {
    /// Refused because the client had too many failures for the number.
    public var lockedOut = 0
    /// Refused because the number was slowed.
    public var slowed = 0

    /// None yet.
    public init() {}
  }

  /// Failures allowed per number and client within a window.
  public let maximumFailures: Int
  /// Failures per number, from all clients, before the number is slowed.
  public let maximumFailuresPerNumber: Int
  /// The window's length.
  public let window: Duration
  /// While a number is slowed: one attempt per this interval.
  public let slowInterval: Duration
  private let capacity: Int
  private let state = Mutex(State())

  /// Creates a throttle.
  /// - Parameters:
  ///   - maximumFailures: Failures allowed per number and client within a window (default 5).
  ///   - maximumFailuresPerNumber: Failures per number before it is slowed (default 30).
  ///   - window: The window's length (default 15 minutes).
  ///   - slowInterval: The spacing of attempts for a slowed number (default 10 s).
  ///   - capacity: Entries kept per table at most: when full, expired entries are pruned and
  ///     then the oldest windows forgotten.
  public init(
    maximumFailures: Int = 5,
    maximumFailuresPerNumber: Int = 30,
    window: Duration = .seconds(15 * 60),
    slowInterval: Duration = .seconds(10),
    capacity: Int = 100_000
  ) {
    precondition(maximumFailures > 0 && maximumFailuresPerNumber > 0 && capacity > 0)
    self.maximumFailures = maximumFailures
    self.maximumFailuresPerNumber = maximumFailuresPerNumber
    self.window = window
    self.slowInterval = slowInterval
    self.capacity = capacity
  }

  /// Whether an attempt may go ahead; counts it against a slowed number's allowance.
  /// - Returns: `nil` when it may, or how long the client must wait.
  public func admit(_ number: String, from client: String, now: Timestamp) -> Duration? {
    self.state.withLock { state in
      let key = Self.key(number, client)
      if let entry = state.clients[key] {
        let end = entry.start.advanced(by: self.window)
        if end <= now {
          state.clients[key] = nil
        } else if entry.failures >= self.maximumFailures {
          state.refusals.lockedOut += 1
          // A clock stepped back never makes the wait longer than a window.
          return min(self.window, now.duration(to: end))
        }
      }
      guard var entry = state.numbers[number] else { return nil }
      if entry.window.start.advanced(by: self.window) <= now {
        state.numbers[number] = nil
        return nil
      }
      guard entry.window.failures >= self.maximumFailuresPerNumber else { return nil }
      if let last = entry.lastAdmitted, now < last.advanced(by: self.slowInterval) {
        state.refusals.slowed += 1
        return now.duration(to: last.advanced(by: self.slowInterval))
      }
      entry.lastAdmitted = now
      state.numbers[number] = entry
      return nil
    }
  }

  /// The attempts refused so far (for the operator's metrics).
  public var refusals: Refusals { self.state.withLock { $0.refusals } }

  /// Counts a failed attempt.
  public func recordFailure(_ number: String, from client: String, now: Timestamp) {
    self.state.withLock { state in
      let key = Self.key(number, client)
      Self.count(&state.clients[key], now: now, window: self.window)
      var entry = state.numbers[number]?.window
      Self.count(&entry, now: now, window: self.window)
      // Entries were just set.
      state.numbers[number, default: NumberWindow(window: entry!)].window = entry!
      self.bound(&state.clients, now: now) { $0.start }
      self.bound(&state.numbers, now: now) { $0.window.start }
    }
  }

  /// A right code: the client's failures for the number are forgotten.
  public func recordSuccess(_ number: String, from client: String) {
    self.state.withLock { _ = $0.clients.removeValue(forKey: Self.key(number, client)) }
  }

  /// Lifts every lockout and slowdown of a number (staff, after checking the citizen).
  public func unlock(_ number: String) {
    self.state.withLock { state in
      state.numbers[number] = nil
      state.clients = state.clients.filter { !$0.key.hasPrefix(number + "|") }
    }
  }

  private static func key(_ number: String, _ client: String) -> String { "\(number)|\(client)" }

  private static func count(_ window: inout Window?, now: Timestamp, window length: Duration) {
    if var current = window, current.start.advanced(by: length) > now {
      current.failures += 1
      window = current
    } else {
      window = Window(start: now, failures: 1)
    }
  }

  private func bound<Value>(
    _ table: inout [String: Value],
    now: Timestamp,
    start: (Value) -> Timestamp
  ) {
    guard table.count > self.capacity else { return }
    table = table.filter { start($0.value).advanced(by: self.window) > now }
    guard table.count > self.capacity else { return }
    // Still full of live windows: forget the oldest tenth, so memory stays bounded.
    let oldest = table.sorted { start($0.value) < start($1.value) }
      .prefix(max(1, self.capacity / 10)).map(\.key)
    for key in oldest { table[key] = nil }
  }
}
