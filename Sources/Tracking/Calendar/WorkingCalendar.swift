/// Which days are working days for state offices.
///
/// The lifecycle needs this for the spacing of delivery invitations (TT 17/2017 art. 5.2h). The
/// deadlines work replaces the stand-in below with the published Vietnamese calendars.
public protocol WorkingCalendar: Sendable {
  /// Whether offices work on this date.
  func isWorkingDay(_ date: CivilDate) -> Bool
}

extension WorkingCalendar {
  /// The number of working days after `start` up to and including `end` (0 if `end` is not
  /// after `start`): Monday → Wednesday is 2, Friday → Tuesday is 2 with a Monday-to-Friday week.
  public func workingDays(after start: CivilDate, through end: CivilDate) -> Int {
    guard start < end else { return 0 }
    var count = 0
    var day = start.adding(days: 1)
    while day <= end {
      if self.isWorkingDay(day) { count += 1 }
      day = day.adding(days: 1)
    }
    return count
  }
}

/// The stand-in calendar until the published holiday calendars arrive: Monday to Friday.
public struct MondayToFridayCalendar: WorkingCalendar {
  /// Creates the calendar.
  public init() {}

  public func isWorkingDay(_ date: CivilDate) -> Bool { date.isoWeekday <= 5 }
}
