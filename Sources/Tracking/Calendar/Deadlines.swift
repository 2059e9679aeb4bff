/// A postal route class of Circular 17/2017 art. 7.2. The classes are data (the policy file
/// may add, e.g., a special-geography class); these four are the circular's rows re-read for the
/// two-level administration of 1/7/2025 (commune and province).
public struct RouteClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The class's name, e.g. `WITHIN_PROVINCE`.
  public var rawValue: String

  /// Names a class.
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Within one commune or ward (formerly "nội quận/huyện").
  public static let withinCommune = RouteClass(rawValue: "WITHIN_COMMUNE")
  /// Between communes of one province (formerly "liên huyện").
  public static let withinProvince = RouteClass(rawValue: "WITHIN_PROVINCE")
  /// Between provinces, both special-class or class-I cities.
  public static let betweenMajorCities = RouteClass(rawValue: "BETWEEN_MAJOR_CITIES")
  /// Between provinces, any other pair.
  public static let interProvince = RouteClass(rawValue: "INTER_PROVINCE")

  public var description: String { self.rawValue }
}

/// How long each postal leg may take: J + n working days by route class, doubled when an
/// appointment slip must be handed back (TT 17/2017 art. 7.2).
public struct PostalLegPolicy: Hashable, Sendable {
  /// The policy's version, recorded with every deadline computed with it.
  public var version: String
  /// n per route class.
  public var workingDays: [RouteClass: Int]

  /// Creates a policy.
  public init(version: String, workingDays: [RouteClass: Int]) {
    self.version = version
    self.workingDays = workingDays
  }

  /// The circular's figures: J+1, J+2, J+3, J+4.
  public static let circular17 = PostalLegPolicy(
    version: "tt17-2017-art7.v1",
    workingDays: [.withinCommune: 1, .withinProvince: 2, .betweenMajorCities: 3, .interProvince: 4]
  )

  /// n for a route, doubled with an appointment slip.
  public func allowance(_ route: RouteClass, appointmentSlip: Bool) -> Int {
    // Every class a rule can give has a figure in a valid policy (the loader checks it).
    let n = self.workingDays[route] ?? self.workingDays.values.max() ?? 0
    return appointmentSlip ? 2 * n : n
  }
}

/// A due date and what it was computed with, so that anyone can recompute it.
public struct Deadline: Hashable, Sendable {
  /// The day counting starts after (J, or the effective receipt day).
  public var start: CivilDate
  /// Working days allowed.
  public var workingDays: Int
  /// The last day: the leg or the processing is due by the end of it (Vietnam time).
  public var due: CivilDate
  /// The calendar versions of the years it spans.
  public var calendarVersions: [String]
  /// Whether a provisional (statutory-rule) year was used.
  public var provisional: Bool
  /// The computation, step by step, for people.
  public var steps: [String]
}

/// Deadlines in Vietnamese working time.
public struct DeadlineCalculator: Sendable {
  /// The afternoon cut-off for intake (NĐ 61/2018 art. 18): after it, a dossier counts from
  /// the next working day. Minutes after midnight, Vietnam time.
  public var cutoffMinutes: Int
  /// The working calendar.
  public let calendar: VietnamCalendar
  /// The postal legs' allowances.
  public let postal: PostalLegPolicy

  /// Creates a calculator.
  public init(
    calendar: VietnamCalendar,
    postal: PostalLegPolicy = .circular17,
    cutoffMinutes: Int = 15 * 60
  ) {
    self.calendar = calendar
    self.postal = postal
    self.cutoffMinutes = cutoffMinutes
  }

  /// Creates a calculator with a policy's postal allowances and cut-off.
  public init(calendar: VietnamCalendar, policy: SlaPolicy) {
    self.init(calendar: calendar, postal: policy.postal, cutoffMinutes: policy.cutoffMinutes)
  }

  /// A postal leg: J + n working days, J being the day on the send slip (TT 17 art. 7.2a).
  /// - Parameter reasons: Steps that come first (e.g. how the route class was derived).
  public func postalLeg(
    j: CivilDate,
    route: RouteClass,
    appointmentSlip: Bool,
    reasons: [String] = []
  ) -> Deadline {
    let n = self.postal.allowance(route, appointmentSlip: appointmentSlip)
    return self.deadline(
      start: j,
      workingDays: n,
      steps: reasons + [
        "J = \(j) (the date on the send slip)",
        "route \(route.rawValue): \(self.postal.allowance(route, appointmentSlip: false)) working day(s)"
          + (appointmentSlip ? ", doubled for the appointment slip" : "")
          + " under policy \(self.postal.version)",
      ]
    )
  }

  /// The agency's processing: n working days counted after the filing day, where a filing after
  /// the cut-off or on a day off counts from the next working day (NĐ 61 art. 18.3). The same
  /// rule restarts the clock when a requested supplement is complete (art. 19.4).
  public func agencyProcessing(filedAt: Timestamp, workingDays n: Int) -> Deadline {
    let (day, minutes) = filedAt.vietnamDayAndMinutes
    var steps = [
      "filed \(day) at \(minutes / 60):\(minutes % 60 < 10 ? "0" : "")\(minutes % 60) Vietnam time"
    ]
    var start = day
    if !self.calendar.isWorkingDay(day) {
      start = self.calendar.workingDay(onOrAfter: day)
      steps.append("\(day) is not a working day: counted as received on \(start)")
    } else if minutes >= self.cutoffMinutes {
      start = self.calendar.adding(workingDays: 1, after: day)
      steps.append(
        "at or after the \(self.cutoffMinutes / 60):\(self.cutoffMinutes % 60 < 10 ? "0" : "")\(self.cutoffMinutes % 60) cut-off: counted as received on \(start)"
      )
    }
    return self.deadline(start: start, workingDays: n, steps: steps)
  }

  /// Checks a request to extend (NĐ 61 art. 19.9): at most once per dossier, and no later than
  /// one working day before the due date; the new date must be later.
  /// - Throws: ``TrackingError`` `.failedPrecondition` naming the rule broken.
  public func checkExtension(
    requestedOn: CivilDate,
    currentDue: CivilDate,
    newDue: CivilDate,
    extensionsSoFar: Int
  ) throws {
    guard extensionsSoFar == 0 else {
      throw TrackingError(code: .failedPrecondition, message: "a dossier may be extended only once")
    }
    guard self.calendar.workingDays(after: requestedOn, through: currentDue) >= 1 else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "an extension must come at least one working day before the due date \(currentDue)"
      )
    }
    guard newDue > currentDue else {
      throw TrackingError.invalidField("new_due_date", "must be after the current due date")
    }
  }

  /// A deadline moved by the agency's one extension (NĐ 61 art. 19.9).
  /// - Parameters:
  ///   - deadline: The deadline before.
  ///   - newDue: The new due date.
  ///   - day: The day the extension was recorded.
  public func extended(_ deadline: Deadline, to newDue: CivilDate, on day: CivilDate) -> Deadline {
    var moved = deadline
    moved.due = newDue
    moved.workingDays = self.calendar.workingDays(after: deadline.start, through: newDue)
    (moved.calendarVersions, moved.provisional) = self.calendar.versions(
      from: deadline.start,
      through: newDue
    )
    moved.steps.append(
      "extended on \(day) from \(deadline.due) to \(newDue) (NĐ 61 art. 19.9): \(moved.workingDays) working day(s) after \(deadline.start)"
    )
    return moved
  }

  /// A shipment's agency processing deadline: counted from the event that last (re)started the
  /// clock, and moved by an extension recorded after that event.
  /// - Returns: `nil` before the filing.
  public func agencyProcessing(of shipment: Shipment, workingDays n: Int) -> Deadline? {
    guard let start = shipment.agencyClockEvent else { return nil }
    let deadline = self.agencyProcessing(filedAt: start.occurredAt, workingDays: n)
    for event in shipment.effectiveEvents.reversed() where event.sequence > start.sequence {
      if case .processingExtension(let moved) = event.details {
        return self.extended(deadline, to: moved.newDueDate, on: event.occurredAt.dateInVietnam)
      }
    }
    return deadline
  }

  private func deadline(start: CivilDate, workingDays n: Int, steps: [String]) -> Deadline {
    // The walk that finds the due date also writes its steps.
    var steps = steps
    var due = start
    var counted = 0
    while counted < n {
      due = due.adding(days: 1)
      if self.calendar.isWorkingDay(due) {
        counted += 1
        steps.append("\(due): working day \(counted)")
      } else {
        steps.append("\(due): day off")
      }
    }
    let (versions, provisional) = self.calendar.versions(from: start, through: due)
    steps.append(
      "due by the end of \(due); calendar \(versions.joined(separator: ", "))"
        + (provisional ? " (PROVISIONAL: statutory rules, no published schedule)" : "")
    )
    return Deadline(
      start: start,
      workingDays: n,
      due: due,
      calendarVersions: versions,
      provisional: provisional,
      steps: steps
    )
  }
}

extension Timestamp {
  /// The calendar day and the minutes after midnight in Vietnam (UTC+7).
  public var vietnamDayAndMinutes: (CivilDate, Int) {
    (self.dateInVietnam, Int((self.seconds + 7 * 3600).floorModulo(86_400) / 60))
  }
}
