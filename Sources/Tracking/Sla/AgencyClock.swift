/// The agency's clock on one shipment, read from its effective events: when the dossier was
/// filed, whether the one supplement request the law allows was made in time (and so pauses and
/// restarts the count), which requests were late or extra, the extension, and the agency's own
/// appointment date.
///
/// Rules (each named in ``steps``):
/// - the filing is the first `AGENCY_ACCEPTED` (the electronic acknowledgement, at the agency's
///   receipt time) or `HANDED_TO_AGENCY` from `IN_TRANSIT` (the co-signed paper handover):
///   QĐ 45/2016 art. 7.4;
/// - a supplement request counts — pausing the clock until the completed dossier is filed again
///   (`SUPPLEMENT_DELIVERED`), which restarts the count from zero — only if it is the first and
///   comes within the procedure's window (3 working days after the filing day by default,
///   NĐ 61/2018 art. 19.4); a later or a second request is kept as a record and flagged as the
///   agency's delay, and does not stop the clock;
/// - the extension (`PROCESSING_EXTENDED`, after the clock's start) moves the appointment, not
///   the legal due date (art. 19.9);
/// - the appointment is the date the agency gave: with its acceptance, or on the slip recorded
///   with `APPOINTMENT_RECEIVED`.
public struct AgencyClock: Hashable, Sendable {
  /// The filing.
  public var filing: ShipmentEvent
  /// The event the count runs from: the filing, or the completion of the timely supplement.
  public var start: ShipmentEvent
  /// The timely supplement request, if one was made.
  public var timelyRequest: ShipmentEvent?
  /// The timely request waits for the completed dossier: the clock is paused.
  public var awaitingSupplement: Bool
  /// Supplement requests that came too late or were not the first.
  public var flaggedRequests: [ShipmentEvent]
  /// The extension recorded after the start, if any.
  public var extensionEvent: ShipmentEvent?
  /// The new appointment it gives.
  public var extendedTo: CivilDate?
  /// The agency's own appointment date.
  public var appointment: CivilDate?
  /// How the clock was read, for people.
  public var steps: [String]

  /// Reads the clock of a shipment, or `nil` before the filing.
  /// - Parameters:
  ///   - shipment: The shipment with its history.
  ///   - calendar: Working days, for the supplement window.
  ///   - window: The procedure's supplement window.
  public init?(_ shipment: Shipment, calendar: VietnamCalendar, window: SupplementWindow) {
    let events = shipment.effectiveEvents
    guard
      let filing = events.first(where: {
        $0.kind == .agencyAccepted || ($0.kind == .handedToAgency && $0.fromState == .inTransit)
      })
    else { return nil }
    self.filing = filing
    self.start = filing
    self.timelyRequest = nil
    self.awaitingSupplement = false
    self.flaggedRequests = []
    self.extensionEvent = nil
    self.extendedTo = nil
    self.appointment = nil
    let filedOn = filing.occurredAt.dateInVietnam
    var steps = [
      "filing: event \(filing.sequence) \(filing.kind.rawValue) at \(filing.occurredAt) (QĐ 45/2016 art. 7.4)"
    ]
    let lastDay = calendar.adding(workingDays: window.workingDays, after: filedOn)
    for event in events where event.sequence > filing.sequence {
      switch event.kind {
      case .supplementRequested:
        let day = event.occurredAt.dateInVietnam
        if self.timelyRequest == nil, self.flaggedRequests.isEmpty, day <= lastDay {
          self.timelyRequest = event
          self.awaitingSupplement = true
          steps.append(
            "supplement requested on \(day) (event \(event.sequence)), within \(window.workingDays) working days of the filing (by \(lastDay)): the clock pauses and restarts from zero when the dossier is complete (\(window.source))"
          )
        } else {
          self.flaggedRequests.append(event)
          let why =
            self.timelyRequest != nil || !self.flaggedRequests.dropLast().isEmpty
            ? "a second request: the law allows one"
            : "after the \(window.workingDays)-working-day window that ended \(lastDay)"
          steps.append(
            "supplement requested on \(day) (event \(event.sequence)): \(why); kept as a record, the agency's delay, the clock does not stop (\(window.source))"
          )
        }
      case .supplementDelivered where self.awaitingSupplement:
        self.awaitingSupplement = false
        self.start = event
        self.extensionEvent = nil
        self.extendedTo = nil
        steps.append(
          "the completed dossier was filed again on \(event.occurredAt.dateInVietnam) (event \(event.sequence)): the count restarts"
        )
      case .processingExtended:
        if case .processingExtension(let moved) = event.details {
          self.extensionEvent = event
          self.extendedTo = moved.newDueDate
        }
      case .appointmentReceived:
        if case .appointment(let date) = event.details { self.appointment = date }
      case .agencyAccepted:
        break
      default:
        break
      }
    }
    // The acceptance's own appointment, unless a slip recorded later says otherwise.
    if self.appointment == nil, let acceptance = shipment.agencyAcceptance {
      self.appointment = acceptance.appointmentDate
    }
    self.steps = steps
  }
}
