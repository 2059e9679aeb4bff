/// The clocks a shipment runs on, like the rows of the processing control sheet.
public enum SlaHop: String, Hashable, Sendable, CaseIterable {
  /// The postal dossier leg: from the receipt from the citizen (J) to the filing at the agency,
  /// or to the citizen's appointment notice when a slip is handed back (TT 17 art. 7.2).
  case dossierLeg = "DOSSIER_LEG"
  /// The agency's processing: from the filing or a completed supplement to the result
  /// (NĐ 61/2018 art. 18–19).
  case agencyProcessing = "AGENCY_PROCESSING"
  /// The postal result leg: from the receipt at the agency (J) to the first delivery attempt.
  case resultLeg = "RESULT_LEG"
  /// The postal return leg of a refused dossier: from the collection of its originals and the
  /// refusal notice (J) to the first delivery attempt, like a result (QĐ 45/2016 art. 8.3).
  case returnLeg = "RETURN_LEG"
}

/// Whether a hop ended before, on or after its due day (Vietnam time).
public enum HopVerdict: String, Hashable, Sendable, CaseIterable {
  /// Ended on a day before the due day.
  case early = "EARLY"
  /// Ended on the due day.
  case onTime = "ON_TIME"
  /// Ended after the due day.
  case late = "LATE"

  /// The verdict for a hop that ended on `day` and was due on `due`.
  public init(endedOn day: CivilDate, due: CivilDate) {
    self = day < due ? .early : day == due ? .onTime : .late
  }
}

/// One hop of one shipment: its allowed time, its actual time and its verdict, with what the
/// due date was computed from, so that it can be recomputed.
public struct HopTimeliness: Hashable, Sendable {
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// Which clock.
  public var hop: SlaHop
  /// The event that started (or restarted) it.
  public var startSequence: Int
  /// Its kind.
  public var startKind: EventKind
  /// When it happened.
  public var startedAt: Timestamp
  /// Working days allowed.
  public var workingDays: Int
  /// The day counting starts after (J, or the effective filing day).
  public var countedFrom: CivilDate
  /// The due day (the hop is due by the end of it).
  public var due: CivilDate
  /// The end of the due day: when a running hop is in breach.
  public var dueAt: Timestamp
  /// When a running hop is at risk: the policy's share of its working time has passed.
  public var atRiskAt: Timestamp
  /// The calendar versions the due date was computed with.
  public var calendarVersions: [String]
  /// Whether a provisional calendar year was used.
  public var provisional: Bool
  /// The policy the allowance comes from (the SLA policy for postal legs, the procedure
  /// catalog for the agency's processing).
  public var policyVersion: String
  /// A postal leg's route class.
  public var routeClass: RouteClass?
  /// Whether an appointment slip is handed back (a doubled dossier leg).
  public var appointmentSlip: Bool
  /// The event that ended or stopped it.
  public var endSequence: Int?
  /// When.
  public var endedAt: Timestamp?
  /// The verdict of an ended hop; `nil` while it runs or when it was stopped.
  public var verdict: HopVerdict?
  /// The event kind that stopped it without a verdict (a supplement request pauses the agency's
  /// clock; a cancellation or a loss ends every clock).
  public var stoppedBy: EventKind?
  /// The working time it took, once ended.
  public var workingMinutes: Int?
  /// Grouping for reports: the competent agency, the origin post office and the procedure.
  public var agency: AgencyCode
  public var postOffice: PostOfficeCode
  public var procedure: ProcedureCode
  /// How the due date was computed.
  public var steps: [String]
  /// The rule applied and its legal source.
  public var rule: String = ""
  /// The agency's processing: the new appointment after its one extension (alerts follow it;
  /// the verdict is against ``due``).
  public var extendedTo: CivilDate? = nil
  /// The agency's processing: the date the agency gave (its receipt-and-appointment slip).
  public var appointmentDate: CivilDate? = nil
  /// The agency's processing: supplement requests that came too late or were not the first.
  public var lateSupplementRequests: Int = 0

  /// Creates a hop (the store reads them back with this).
  public init(
    trackingNumber: TrackingNumber,
    hop: SlaHop,
    startSequence: Int,
    startKind: EventKind,
    startedAt: Timestamp,
    workingDays: Int,
    countedFrom: CivilDate,
    due: CivilDate,
    dueAt: Timestamp,
    atRiskAt: Timestamp,
    calendarVersions: [String],
    provisional: Bool,
    policyVersion: String,
    routeClass: RouteClass?,
    appointmentSlip: Bool,
    endSequence: Int?,
    endedAt: Timestamp?,
    verdict: HopVerdict?,
    stoppedBy: EventKind?,
    workingMinutes: Int?,
    agency: AgencyCode,
    postOffice: PostOfficeCode,
    procedure: ProcedureCode,
    steps: [String],
    rule: String = "",
    extendedTo: CivilDate? = nil,
    appointmentDate: CivilDate? = nil,
    lateSupplementRequests: Int = 0
  ) {
    self.rule = rule
    self.extendedTo = extendedTo
    self.appointmentDate = appointmentDate
    self.lateSupplementRequests = lateSupplementRequests
    self.trackingNumber = trackingNumber
    self.hop = hop
    self.startSequence = startSequence
    self.startKind = startKind
    self.startedAt = startedAt
    self.workingDays = workingDays
    self.countedFrom = countedFrom
    self.due = due
    self.dueAt = dueAt
    self.atRiskAt = atRiskAt
    self.calendarVersions = calendarVersions
    self.provisional = provisional
    self.policyVersion = policyVersion
    self.routeClass = routeClass
    self.appointmentSlip = appointmentSlip
    self.endSequence = endSequence
    self.endedAt = endedAt
    self.verdict = verdict
    self.stoppedBy = stoppedBy
    self.workingMinutes = workingMinutes
    self.agency = agency
    self.postOffice = postOffice
    self.procedure = procedure
    self.steps = steps
  }

  /// Whether the clock is still running.
  public var isRunning: Bool { self.endSequence == nil }

  /// Whether the agency's appointment is later than the law allows.
  public var appointmentLaterThanLaw: Bool { self.appointmentDate.map { $0 > self.due } ?? false }

  /// Late, within the new appointment an extension gave with an apology (NĐ 61 art. 19.9;
  /// TT 01/2018 art. 13 scores it so). A result after the new appointment too is plainly late.
  public var lateWithApology: Bool {
    guard self.verdict == .late, let extendedTo = self.extendedTo, let endedAt = self.endedAt
    else { return false }
    return endedAt.dateInVietnam <= extendedTo
  }

  /// Whether a running hop is past its due day at `now`.
  public func isOverdue(at now: Timestamp) -> Bool { self.isRunning && now >= self.dueAt }
}
