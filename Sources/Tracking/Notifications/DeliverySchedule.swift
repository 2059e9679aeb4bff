/// When a failed message is tried again: a fixed schedule of delays after each failure, like
/// Standard Webhooks' (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each spread by a random
/// ±`jitter` share so that retries of many messages do not arrive together. A message whose
/// last scheduled retry fails is dead-lettered.
public struct RetrySchedule: Hashable, Sendable {
  /// The delay after the first, second, … failure.
  public var delays: [Duration]
  /// The share of each delay drawn at random either side (0 ≤ jitter < 1).
  public var jitter: Double

  /// The Standard Webhooks schedule: retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after
  /// the failures (about 28 hours in all), ±20%.
  public static let standardWebhooks = RetrySchedule(
    delays: [
      .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000),
      .seconds(36_000), .seconds(36_000),
    ],
    jitter: 0.2
  )

  /// Creates a schedule.
  public init(delays: [Duration], jitter: Double) {
    precondition((0 ..< 1).contains(jitter), "jitter is a share below 1")
    self.delays = delays
    self.jitter = jitter
  }

  /// The total time the schedule allows, without jitter: the retry budget.
  public var budget: Duration { self.delays.reduce(.zero, +) }

  /// When to try again after the `failures`-th failure, or `nil` when the schedule is spent
  /// (the message is dead-lettered).
  public func nextAttempt(
    afterFailures failures: Int,
    at now: Timestamp,
    using generator: inout some RandomNumberGenerator
  ) -> Timestamp? {
    guard failures >= 1, failures <= self.delays.count else { return nil }
    let delay = self.delays[failures - 1]
    let micros =
      Double(delay.components.seconds) * 1e6
      + Double(delay.components.attoseconds) / 1e12
    let factor = 1 + Double.random(in: -self.jitter ... self.jitter, using: &generator)
    return Timestamp(microseconds: now.microseconds + Int64((micros * factor).rounded()))
  }
}

/// Hours of the day (Vietnam time) when a channel sends nothing: a message due then waits
/// until they end. The window may span midnight (21:00–07:00, the default for SMS).
public struct QuietHours: Hashable, Sendable {
  /// Minutes after midnight when they begin.
  public var startMinute: Int
  /// Minutes after midnight when they end.
  public var endMinute: Int

  /// Creates a window; equal ends mean none.
  public init(startMinute: Int, endMinute: Int) {
    precondition((0 ..< 1440).contains(startMinute) && (0 ..< 1440).contains(endMinute))
    self.startMinute = startMinute
    self.endMinute = endMinute
  }

  /// 21:00–07:00.
  public static let smsDefault = QuietHours(startMinute: 21 * 60, endMinute: 7 * 60)

  /// Parses `HH:MM-HH:MM`.
  /// - Throws: ``InvalidValue``.
  public init(parsing text: String) throws {
    let parts = text.split(separator: "-")
    guard parts.count == 2, let start = Self.minute(parts[0]), let end = Self.minute(parts[1])
    else { throw InvalidValue("must be HH:MM-HH:MM, e.g. 21:00-07:00") }
    self.init(startMinute: start, endMinute: end)
  }

  private static func minute(_ text: Substring) -> Int? {
    let parts = text.split(separator: ":")
    guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]),
      let minute = Int(parts[1]), (0 ..< 24).contains(hour), (0 ..< 60).contains(minute)
    else { return nil }
    return hour * 60 + minute
  }

  /// When the quiet hours holding `time` end, or `nil` when `time` is outside them.
  public func end(holding time: Timestamp) -> Timestamp? {
    guard self.startMinute != self.endMinute else { return nil }
    let offset: Int64 = 7 * 3600 * 1_000_000  // Vietnam time, UTC+7 all year
    let day: Int64 = 86_400 * 1_000_000
    let local = time.microseconds + offset
    let midnight = local - ((local % day) + day) % day
    let minute = Int((local - midnight) / 60_000_000)
    let quiet =
      self.startMinute < self.endMinute
      ? (self.startMinute ..< self.endMinute).contains(minute)
      : minute >= self.startMinute || minute < self.endMinute
    guard quiet else { return nil }
    var end = midnight + Int64(self.endMinute) * 60_000_000
    if minute >= self.endMinute { end += day }
    return Timestamp(microseconds: end - offset)
  }

  /// `21:00-07:00`.
  public var description: String {
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return
      "\(two(self.startMinute / 60)):\(two(self.startMinute % 60))-\(two(self.endMinute / 60)):\(two(self.endMinute % 60))"
  }
}

/// At most `rate` messages per second on average with bursts of `burst`: the time a message
/// must wait before it may go. Pure; the caller keeps it behind a lock.
public struct TokenBucket: Hashable, Sendable {
  /// Messages per second.
  public var rate: Double
  /// The most that may go at once.
  public var burst: Double
  private var tokens: Double
  private var updatedAt: Timestamp?

  /// A full bucket.
  public init(rate: Double, burst: Double) {
    precondition(rate > 0 && burst >= 1)
    self.rate = rate
    self.burst = burst
    self.tokens = burst
  }

  /// Takes a token at `now`: `nil` when one was there, else how long until one is (nothing
  /// is taken then).
  public mutating func take(now: Timestamp) -> Duration? {
    if let updatedAt, now > updatedAt {
      let elapsed = Double(now.microseconds - updatedAt.microseconds) / 1e6
      self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
    }
    self.updatedAt = max(now, self.updatedAt ?? now)
    if self.tokens >= 1 {
      self.tokens -= 1
      return nil
    }
    let seconds = (1 - self.tokens) / self.rate
    return .microseconds(Int64((seconds * 1e6).rounded(.up)))
  }
}
