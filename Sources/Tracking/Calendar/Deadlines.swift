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
  /// The last day the law allows: the leg or the processing is due by the end of it (Vietnam
  /// time). An extension does not move it: the dossier is late against it.
  public var due: CivilDate
  /// The new appointment after the agency's one extension with an apology (NĐ 61 art. 19.9):
  /// alerts and the citizen's date follow it, the verdict does not.
  public var extendedTo: CivilDate? = nil
  /// The calendar versions of the years it spans.
  public var calendarVersions: [String]
  /// Whether a provisional (statutory-rule) year was used.
  public var provisional: Bool
  /// The computation, step by step, for people.
  public var steps: [String]
  /// The rule applied and its legal source.
  public var rule: String = ""

  /// The date the citizen is given: the extension's, or the due date.
  public var appointment: CivilDate { self.extendedTo ?? self.due }
}

/// Deadlines in Vietnamese working time.
public struct DeadlineCalculator: Sendable {
  /// The working calendar.
  public let calendar: VietnamCalendar
  /// The postal legs' allowances.
  public let postal: PostalLegPolicy

  /// The rule of the postal legs.
  public static let postalRule =
    "TT 17/2017/TT-BTTTT art. 7.2: J + n working days by route class, J being the date on the send slip (art. 7.2a), doubled when the appointment slip is handed back (art. 7.2b); due by the end of the last day"
  /// The rule of the agency's processing.
  public static let agencyRule =
    "QĐ 45/2016/QĐ-TTg art. 7.4: the legal filing time is the signing of the handover record at the agency (the electronic acknowledgement, or the co-signed paper handover); a period in days counts from the next day (Bộ luật Dân sự 2015 art. 147); the procedure's working days from the catalog; one timely supplement request restarts the count when the dossier is complete (NĐ 61/2018 art. 19.4); an extension is an apology and a new appointment, not a new legal deadline (art. 19.9)"

  /// Creates a calculator.
  public init(calendar: VietnamCalendar, postal: PostalLegPolicy = .circular17) {
    self.calendar = calendar
    self.postal = postal
  }

  /// Creates a calculator with a policy's postal allowances.
  public init(calendar: VietnamCalendar, policy: SlaPolicy) {
    self.init(calendar: calendar, postal: policy.postal)
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
    var deadline = self.deadline(
      start: j,
      workingDays: n,
      steps: reasons + [
        "J = \(j) (the date on the send slip)",
        "route \(route.rawValue): \(self.postal.allowance(route, appointmentSlip: false)) working day(s)"
          + (appointmentSlip ? ", doubled for the appointment slip (TT 17 art. 7.2b)" : "")
          + " under policy \(self.postal.version)",
      ]
    )
    deadline.rule = Self.postalRule
    return deadline
  }

  /// The agency's processing from the filing instant (QĐ 45 art. 7.4): n working days counted
  /// from the next day (Civil Code art. 147), so due by the end of the n-th working day after
  /// the filing day, whatever day that was; 0 working days (same day) is due the filing day, or
  /// the next working day when that is a day off. A sector law's same-day cut-off (a
  /// procedure's attribute, none by default) counts a filing at or after it as filed on the
  /// next working day. The same rule restarts the clock when a timely supplement request is
  /// complete (NĐ 61 art. 19.4).
  public func agencyProcessing(
    filedAt: Timestamp,
    workingDays n: Int,
    cutoff: SameDayCutoff? = nil
  ) -> Deadline {
    let (day, minutes) = filedAt.vietnamDayAndMinutes
    var steps = [
      "filed \(day) at \(Self.clock(minutes)) Vietnam time: the signed handover at the agency (QĐ 45/2016 art. 7.4)"
    ]
    var filed = day
    if let cutoff, self.calendar.isWorkingDay(day), minutes >= cutoff.minutes {
      filed = self.calendar.adding(workingDays: 1, after: day)
      steps.append(
        "at or after the \(Self.clock(cutoff.minutes)) cut-off of \(cutoff.source): counted as filed on \(filed)"
      )
    }
    var deadline: Deadline
    if n == 0 {
      let due = self.calendar.workingDay(onOrAfter: filed)
      steps.append(
        due == filed
          ? "same-day procedure: due by the end of \(due)"
          : "same-day procedure filed on a day off: due by the end of the next working day \(due)"
      )
      let (versions, provisional) = self.calendar.versions(from: filed, through: due)
      deadline = Deadline(
        start: filed,
        workingDays: 0,
        due: due,
        calendarVersions: versions,
        provisional: provisional,
        steps: steps
      )
    } else {
      steps.append(
        "\(n) working day(s) counted from the day after \(filed) (Bộ luật Dân sự 2015 art. 147)"
      )
      deadline = self.deadline(start: filed, workingDays: n, steps: steps)
    }
    deadline.rule = Self.agencyRule
    return deadline
  }

  /// `HH:MM`.
  static func clock(_ minutes: Int) -> String {
    let m = minutes % 60
    return "\(minutes / 60):\(m < 10 ? "0" : "")\(m)"
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

  /// A deadline with the agency's one extension (NĐ 61 art. 19.9): the new appointment, which
  /// alerts and the citizen follow; the legal due date stays, and a dossier finished after it
  /// is late (with an apology).
  /// - Parameters:
  ///   - deadline: The deadline before.
  ///   - newDue: The new appointment.
  ///   - day: The day the extension was recorded.
  public func extended(_ deadline: Deadline, to newDue: CivilDate, on day: CivilDate) -> Deadline {
    var moved = deadline
    moved.extendedTo = newDue
    let (versions, provisional) = self.calendar.versions(from: deadline.start, through: newDue)
    moved.calendarVersions = versions
    moved.provisional = provisional
    moved.steps.append(
      "extended on \(day) with an apology: new appointment \(newDue) (NĐ 61 art. 19.9); the legal due date stays \(deadline.due) and finishing after it is late with apology"
    )
    return moved
  }

  private func deadline(start: CivilDate, workingDays n: Int, steps: [String]) -> Deadline {
    // The walk that finds the due date also writes its steps.
    var steps = steps
    var due = start
    var counted = 0
    while counted < n {
      due = due.adding(days: 1)
      let note = self.calendar.note(on: due).map { " (\($0))" } ?? ""
      if self.calendar.isWorkingDay(due) {
        counted += 1
        steps.append("\(due): working day \(counted)\(note)")
      } else {
        steps.append("\(due): day off\(note)")
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
