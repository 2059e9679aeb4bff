import Synchronization

/// One year of the state offices' calendar: the days off beyond weekends (public holidays as
/// scheduled, compensatory and swapped days) and the Saturdays that become working days.
public struct CalendarYear: Hashable, Sendable {
  /// A dated entry and where it comes from.
  public struct Entry: Hashable, Sendable {
    /// The day.
    public var date: CivilDate
    /// What it is (e.g. "Tết Nguyên đán", "make-up working Saturday for 02/05").
    public var name: String
    /// The decision or announcement it comes from.
    public var source: String

    /// Creates an entry.
    public init(date: CivilDate, name: String, source: String) {
      self.date = date
      self.name = name
      self.source = source
    }
  }

  /// The solar year.
  public var year: Int
  /// The data's version, recorded with every deadline computed with it.
  public var version: String
  /// SHA-256 of the file it was read from (hex), or of the rules for a provisional year.
  public var contentHash: String
  /// Built from the statutory rules, not from a published schedule.
  public var provisional: Bool
  /// Days off (weekdays off; weekend entries are allowed and change nothing).
  public var daysOff: [Entry]
  /// Weekend days that are working days.
  public var workingDays: [Entry]

  /// Creates a year.
  public init(
    year: Int,
    version: String,
    contentHash: String,
    provisional: Bool,
    daysOff: [Entry],
    workingDays: [Entry]
  ) {
    self.year = year
    self.version = version
    self.contentHash = contentHash
    self.provisional = provisional
    self.daysOff = daysOff
    self.workingDays = workingDays
  }

  /// A year built from the statutory rules (Labour Code 2019 art. 111–112) when no schedule is
  /// published: 1/1; Tết — the last day of the lunar year and the first four of the new one;
  /// Hùng Kings (10/3 lunar); 30/4; 1/5; 2/9 and the adjacent day that makes a long weekend
  /// (1/9, or 3/9 when 2/9 is a Thursday); and for a holiday on a weekend the next working day
  /// off (nghỉ bù). Swapped days and make-up Saturdays cannot be derived and are absent.
  public static func provisional(_ year: Int) -> CalendarYear {
    let source = "Labour Code 2019 art. 111.3 and 112 (statutory rules; no published schedule)"
    let tet = LunarCalendar.tet(year)
    var holidays: [(CivilDate, String)] = [
      (CivilDate(year: year, month: 1, day: 1), "Tết Dương lịch")
    ]
    for offset in -1 ... 3 { holidays.append((tet.adding(days: offset), "Tết Nguyên đán")) }
    holidays.append((LunarCalendar.hungKings(year), "Giỗ Tổ Hùng Vương"))
    holidays.append((CivilDate(year: year, month: 4, day: 30), "Ngày Chiến thắng"))
    holidays.append((CivilDate(year: year, month: 5, day: 1), "Quốc tế Lao động"))
    let national = CivilDate(year: year, month: 9, day: 2)
    holidays.append((national, "Quốc khánh"))
    holidays.append(
      (national.adding(days: national.isoWeekday == 4 ? 1 : -1), "Quốc khánh (adjacent day)")
    )
    // Tết of the next lunar year may start in this solar year's last days: never (Tết is 21/1–20/2).
    var off: [Entry] = []
    var taken = Set(holidays.map(\.0))
    for (date, name) in holidays.sorted(by: { $0.0 < $1.0 }) {
      off.append(Entry(date: date, name: name, source: source))
      if date.isoWeekday >= 6 {
        var day = date.adding(days: 1)
        while day.isoWeekday >= 6 || taken.contains(day) { day = day.adding(days: 1) }
        taken.insert(day)
        off.append(Entry(date: day, name: "\(name) (compensatory day off)", source: source))
      }
    }
    return CalendarYear(
      year: year,
      version: "vn-statutory-\(year)",
      contentHash: "rules:labour-code-2019-art-112",
      provisional: true,
      daysOff: off.filter { $0.date.year == year }.sorted { $0.date < $1.date },
      workingDays: []
    )
  }
}

/// The state offices' working days: Monday to Friday, minus the days off of each year's
/// calendar, plus its make-up working Saturdays. A year without a published calendar is built
/// from the statutory rules and marked provisional.
public struct VietnamCalendar: WorkingCalendar {
  private let years: [Int: CalendarYear]
  private let offDays: Set<CivilDate>
  private let workDays: Set<CivilDate>
  /// Statutory days off of the unpublished years 2000–2100, computed once.
  private let provisionalOff: Set<CivilDate>

  /// Creates a calendar from published years (others are provisional).
  public init(_ years: [CalendarYear]) {
    self.years = Dictionary(years.map { ($0.year, $0) }, uniquingKeysWith: { $1 })
    self.offDays = Set(years.flatMap { $0.daysOff.map(\.date) })
    self.workDays = Set(years.flatMap { $0.workingDays.map(\.date) })
    let published = Set(years.map(\.year))
    self.provisionalOff = Set(
      (2000 ... 2100).filter { !published.contains($0) }.flatMap {
        CalendarYear.provisional($0).daysOff.map(\.date)
      }
    )
  }

  /// The calendar data of a year: published, or provisional.
  public func year(_ year: Int) -> CalendarYear {
    self.years[year] ?? CalendarYear.provisional(year)
  }

  /// The published years, oldest first.
  public var publishedYears: [CalendarYear] { self.years.values.sorted { $0.year < $1.year } }

  public func isWorkingDay(_ date: CivilDate) -> Bool {
    if self.years[date.year] == nil {
      let off =
        (2000 ... 2100).contains(date.year)
        ? self.provisionalOff.contains(date)
        : CalendarYear.provisional(date.year).daysOff.contains { $0.date == date }
      return !off && date.isoWeekday <= 5
    }
    if self.workDays.contains(date) { return true }
    if self.offDays.contains(date) { return false }
    return date.isoWeekday <= 5
  }

  /// Why a day is what it is, for explanations: the published (or statutory) entry's name,
  /// or the weekday of an ordinary weekend day; `nil` for an ordinary working day.
  public func note(on date: CivilDate) -> String? {
    let year = self.year(date.year)
    if let entry = (year.workingDays + year.daysOff).first(where: { $0.date == date }) {
      return entry.name
    }
    switch date.isoWeekday {
    case 6: return "Saturday"
    case 7: return "Sunday"
    default: return nil
    }
  }

  /// The n-th working day after `date` (n ≥ 0; 0 gives `date` itself).
  public func adding(workingDays n: Int, after date: CivilDate) -> CivilDate {
    var day = date
    var left = n
    while left > 0 {
      day = day.adding(days: 1)
      if self.isWorkingDay(day) { left -= 1 }
    }
    return day
  }

  /// The first working day on or after `date`.
  public func workingDay(onOrAfter date: CivilDate) -> CivilDate {
    var day = date
    while !self.isWorkingDay(day) { day = day.adding(days: 1) }
    return day
  }

  /// The versions of the years between two dates (inclusive), and whether any is provisional.
  public func versions(
    from start: CivilDate,
    through end: CivilDate
  ) -> (versions: [String], provisional: Bool) {
    let years = (min(start.year, end.year) ... max(start.year, end.year)).map { self.year($0) }
    return (years.map(\.version), years.contains(where: \.provisional))
  }
}

/// The calendar in force, replaceable without a restart (reloaded calendar files).
public final class CalendarHolder: WorkingCalendar {
  private let calendar: Mutex<VietnamCalendar>

  /// Starts with a calendar.
  public init(_ calendar: VietnamCalendar) { self.calendar = Mutex(calendar) }

  /// The calendar in force.
  public var current: VietnamCalendar { self.calendar.withLock { $0 } }

  /// Puts new calendar data in force.
  public func replace(with calendar: VietnamCalendar) { self.calendar.withLock { $0 = calendar } }

  public func isWorkingDay(_ date: CivilDate) -> Bool { self.current.isWorkingDay(date) }
}
