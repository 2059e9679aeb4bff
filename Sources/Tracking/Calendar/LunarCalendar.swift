import Foundation

/// The Vietnamese lunisolar calendar, computed for the UTC+7 meridian (Hồ Ngọc Đức's algorithm
/// after Jean Meeus, *Astronomical Algorithms*). Vietnam's calendar differs from the Chinese one,
/// computed for UTC+8, in the years when a new moon falls between 16:00 and 17:00 UTC (e.g. Tết
/// 1985 came a month apart).
public enum LunarCalendar {
  /// The time zone the new moons are placed in, hours east of UTC.
  public static let timeZone = 7.0

  /// The solar date of a lunar date.
  /// - Parameters:
  ///   - day: The lunar day, 1–30.
  ///   - month: The lunar month, 1–12.
  ///   - year: The lunar year (the solar year its first day falls in).
  ///   - leap: Whether the month is the year's leap month.
  /// - Returns: The date, or `nil` when `leap` is set and that month is not leap that year.
  public static func solarDate(day: Int, month: Int, year: Int, leap: Bool = false) -> CivilDate? {
    let tz = Self.timeZone
    let (a11, b11) =
      month < 11
      ? (Self.lunarMonth11(year - 1, tz), Self.lunarMonth11(year, tz))
      : (Self.lunarMonth11(year, tz), Self.lunarMonth11(year + 1, tz))
    let k = Int(floor(0.5 + (Double(a11) - 2_415_021.076998695) / 29.530588853))
    var offset = month - 11
    if offset < 0 { offset += 12 }
    if b11 - a11 > 365 {
      let leapOffset = Self.leapMonthOffset(a11, tz)
      var leapMonth = leapOffset - 2
      if leapMonth < 0 { leapMonth += 12 }
      if leap, month != leapMonth { return nil }
      if leap || offset >= leapOffset { offset += 1 }
    } else if leap {
      return nil
    }
    let monthStart = Self.newMoonDay(k + offset, tz)
    return Self.civilDate(julianDay: monthStart + day - 1)
  }

  /// Tết Nguyên đán: the first day of the lunar year that starts in solar year `year`.
  public static func tet(_ year: Int) -> CivilDate {
    // Day 1 of month 1 always exists.
    Self.solarDate(day: 1, month: 1, year: year)!
  }

  /// Giỗ Tổ Hùng Vương: the 10th day of the 3rd lunar month.
  public static func hungKings(_ year: Int) -> CivilDate {
    // Day 10 of month 3 always exists.
    Self.solarDate(day: 10, month: 3, year: year)!
  }

  // MARK: - Astronomy

  static func julianDay(_ date: CivilDate) -> Int { Int(date.daysSinceEpoch) + 2_440_588 }

  static func civilDate(julianDay: Int) -> CivilDate {
    CivilDate(daysSinceEpoch: Int64(julianDay - 2_440_588))
  }

  /// The Julian day (fractional, UT) of the k-th new moon after 1900-01-01.
  static func newMoon(_ k: Int) -> Double {
    let k = Double(k)
    let t = k / 1236.85
    let t2 = t * t
    let t3 = t2 * t
    let dr = Double.pi / 180
    var jd1 = 2_415_020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    let m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    let mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    let f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    var c1 = (0.1734 - 0.000393 * t) * sin(m * dr) + 0.0021 * sin(2 * dr * m)
    c1 = c1 - 0.4068 * sin(mpr * dr) + 0.0161 * sin(dr * 2 * mpr)
    c1 = c1 - 0.0004 * sin(dr * 3 * mpr)
    c1 = c1 + 0.0104 * sin(dr * 2 * f) - 0.0051 * sin(dr * (m + mpr))
    c1 = c1 - 0.0074 * sin(dr * (m - mpr)) + 0.0004 * sin(dr * (2 * f + m))
    c1 = c1 - 0.0004 * sin(dr * (2 * f - m)) - 0.0006 * sin(dr * (2 * f + mpr))
    c1 = c1 + 0.0010 * sin(dr * (2 * f - mpr)) + 0.0005 * sin(dr * (2 * mpr + m))
    let deltaT =
      t < -11
      ? 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
      : -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - deltaT
  }

  /// The local day of the k-th new moon.
  static func newMoonDay(_ k: Int, _ tz: Double) -> Int {
    Int(floor(Self.newMoon(k) + 0.5 + tz / 24))
  }

  /// The sun's longitude (radians, 0–2π) at a Julian day.
  static func sunLongitude(_ jdn: Double) -> Double {
    let t = (jdn - 2_451_545.0) / 36525
    let t2 = t * t
    let dr = Double.pi / 180
    let m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    let l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    var dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * sin(dr * 2 * m) + 0.000290 * sin(dr * 3 * m)
    var l = (l0 + dl) * dr
    l -= Double.pi * 2 * floor(l / (Double.pi * 2))
    return l
  }

  /// The sun's longitude sector (0–11, 30° each) at the start of a local day.
  static func sunLongitudeSector(_ dayNumber: Int, _ tz: Double) -> Int {
    Int(floor(Self.sunLongitude(Double(dayNumber) - 0.5 - tz / 24) / Double.pi * 6))
  }

  /// The first day of the lunar month that contains the winter solstice of solar year `year`.
  static func lunarMonth11(_ year: Int, _ tz: Double) -> Int {
    let off = Self.julianDay(CivilDate(year: year, month: 12, day: 31)) - 2_415_021
    let k = Int(floor(Double(off) / 29.530588853))
    var nm = Self.newMoonDay(k, tz)
    if Self.sunLongitudeSector(nm, tz) >= 9 { nm = Self.newMoonDay(k - 1, tz) }
    return nm
  }

  /// Which month after month 11 is leap, in a year of 13 months.
  static func leapMonthOffset(_ a11: Int, _ tz: Double) -> Int {
    let k = Int(floor((Double(a11) - 2_415_021.076998695) / 29.530588853 + 0.5))
    var i = 1
    var arc = Self.sunLongitudeSector(Self.newMoonDay(k + i, tz), tz)
    var last = 0
    repeat {
      last = arc
      i += 1
      arc = Self.sunLongitudeSector(Self.newMoonDay(k + i, tz), tz)
    } while arc != last && i < 14
    return i - 1
  }
}
