/// An instant, in whole microseconds since 1970-01-01T00:00:00Z.
///
/// The domain's only notion of time: storage keeps it exactly, and it converts to and from the
/// wire's seconds-and-nanoseconds without drift (nanoseconds are truncated to microseconds).
public struct Timestamp: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// Microseconds since the Unix epoch.
  public var microseconds: Int64

  /// Creates an instant.
  /// - Parameter microseconds: Microseconds since the Unix epoch.
  public init(microseconds: Int64) {
    self.microseconds = microseconds
  }

  /// Creates an instant from seconds and nanoseconds since the Unix epoch.
  public init(seconds: Int64, nanoseconds: Int32) {
    self.microseconds = seconds * 1_000_000 + Int64(nanoseconds) / 1000
  }

  /// Whole seconds since the Unix epoch (floor).
  public var seconds: Int64 {
    self.microseconds.floorDivided(by: 1_000_000)
  }

  /// The nanoseconds past ``seconds``.
  public var nanoseconds: Int32 {
    Int32((self.microseconds - self.seconds * 1_000_000) * 1000)
  }

  /// The time from this instant to another (negative when the other is earlier).
  public func duration(to other: Timestamp) -> Duration {
    .microseconds(other.microseconds - self.microseconds)
  }

  /// This instant moved by a duration (microsecond precision).
  public func advanced(by duration: Duration) -> Timestamp {
    let (seconds, attoseconds) = duration.components
    return Timestamp(
      microseconds: self.microseconds + seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    )
  }

  /// The calendar year in Vietnam (UTC+7) at this instant.
  public var yearInVietnam: Int { self.dateInVietnam.year }

  /// The calendar date in Vietnam (UTC+7) at this instant.
  public var dateInVietnam: CivilDate {
    CivilDate(daysSinceEpoch: (self.seconds + 7 * 3600).floorDivided(by: 86_400))
  }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.microseconds < rhs.microseconds }

  public var description: String {
    let totalSeconds = self.seconds
    let date = CivilDate(daysSinceEpoch: totalSeconds.floorDivided(by: 86_400))
    let secondOfDay = totalSeconds - totalSeconds.floorDivided(by: 86_400) * 86_400
    func pad(_ value: Int64, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return "\(pad(Int64(date.year), 4))-\(pad(Int64(date.month), 2))-\(pad(Int64(date.day), 2))T"
      + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))."
      + "\(pad(self.microseconds - totalSeconds * 1_000_000, 6))Z"
  }
}

/// A proleptic Gregorian calendar date (Howard Hinnant's algorithms).
public struct CivilDate: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The year.
  public var year: Int
  /// 1–12.
  public var month: Int
  /// 1–31.
  public var day: Int

  /// Creates a date; the values are not checked.
  public init(year: Int, month: Int, day: Int) {
    self.year = year
    self.month = month
    self.day = day
  }

  /// Days since 1970-01-01.
  public var daysSinceEpoch: Int64 {
    let y = Int64(self.month <= 2 ? self.year - 1 : self.year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let m = Int64(self.month)
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(self.day) - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// 1 = Monday … 7 = Sunday (ISO 8601).
  public var isoWeekday: Int {
    Int((self.daysSinceEpoch + 3).floorModulo(7)) + 1
  }

  /// The date `days` later (or earlier, if negative).
  public func adding(days: Int) -> CivilDate {
    CivilDate(daysSinceEpoch: self.daysSinceEpoch + Int64(days))
  }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

  public var description: String {
    let month = self.month < 10 ? "0\(self.month)" : "\(self.month)"
    let day = self.day < 10 ? "0\(self.day)" : "\(self.day)"
    return "\(self.year)-\(month)-\(day)"
  }

  /// The date `daysSinceEpoch` days after 1970-01-01.
  public init(daysSinceEpoch: Int64) {
    let z = daysSinceEpoch + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    self.year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
    self.month = Int(month)
    self.day = Int(day)
  }
}

extension Int64 {
  func floorModulo(_ divisor: Int64) -> Int64 {
    let remainder = self % divisor
    return remainder < 0 ? remainder + divisor : remainder
  }

  func floorDivided(by divisor: Int64) -> Int64 {
    let quotient = self / divisor
    return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
  }
}

extension CivilDate {
  /// Parses a calendar date written `YYYY-MM-DD`.
  /// - Throws: ``InvalidValue`` for anything else or a date that does not exist.
  public init(iso string: String) throws {
    let bytes = Array(string.utf8)
    let isDigit: (UInt8) -> Bool = { (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains($0) }
    guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      bytes.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || isDigit($0.element) })
    else {
      throw InvalidValue("must be a date written YYYY-MM-DD")
    }
    func number(_ range: Range<Int>) -> Int {
      bytes[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
    let date = CivilDate(year: number(0 ..< 4), month: number(5 ..< 7), day: number(8 ..< 10))
    guard (1 ... 12).contains(date.month), CivilDate(daysSinceEpoch: date.daysSinceEpoch) == date
    else {
      throw InvalidValue("has no such date \(string)")
    }
    self = date
  }
}
