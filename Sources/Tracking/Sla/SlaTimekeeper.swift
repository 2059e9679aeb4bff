/// Works out every hop of a shipment from its effective events, with the working calendar,
/// the SLA policy and the procedure catalog in force (or given ones, to recompute).
public struct SlaTimekeeper: Sendable {
  let calendars: CalendarHolder
  let policies: SlaPolicyHolder
  let catalog: CatalogHolder
  let map: AdministrativeMapHolder?

  /// Creates a timekeeper over the holders the service reloads.
  public init(
    calendars: CalendarHolder,
    policies: SlaPolicyHolder,
    catalog: CatalogHolder,
    map: AdministrativeMapHolder? = nil
  ) {
    self.calendars = calendars
    self.policies = policies
    self.catalog = catalog
    self.map = map
  }

  /// The inputs in force now.
  public var inputs: SlaInputs {
    SlaInputs(
      calendar: self.calendars.current,
      policy: self.policies.current,
      catalog: self.catalog.current,
      map: self.map?.current
    )
  }

  /// The shipment's hops with the inputs in force.
  public func hops(of shipment: Shipment) -> [HopTimeliness] {
    self.inputs.hops(of: shipment)
  }
}

/// A calendar, a policy and a catalog: everything a verdict depends on besides the events.
public struct SlaInputs: Sendable {
  /// The working calendar.
  public var calendar: VietnamCalendar
  /// The SLA policy.
  public var policy: SlaPolicy
  /// The procedure catalog (the agency's processing times).
  public var catalog: ProcedureCatalog
  /// The administrative map (for the urban-area rule).
  public var map: AdministrativeMap?

  /// Bundles inputs.
  public init(
    calendar: VietnamCalendar,
    policy: SlaPolicy,
    catalog: ProcedureCatalog,
    map: AdministrativeMap? = nil
  ) {
    self.calendar = calendar
    self.policy = policy
    self.catalog = catalog
    self.map = map
  }

  private var calculator: DeadlineCalculator {
    DeadlineCalculator(calendar: self.calendar, policy: self.policy)
  }

  /// Every hop that has started, oldest first.
  public func hops(of shipment: Shipment) -> [HopTimeliness] {
    let events = shipment.effectiveEvents
    var hops: [HopTimeliness] = []
    if shipment.serviceType != .resultOnly {
      if let hop = self.dossierLeg(shipment, events) { hops.append(hop) }
      if let hop = self.agencyProcessing(shipment, events) { hops.append(hop) }
    }
    if shipment.serviceType != .dossierOnly, let hop = self.resultLeg(shipment, events) {
      hops.append(hop)
    }
    if let hop = self.returnLeg(shipment, events) { hops.append(hop) }
    return hops
  }

  /// The receipt from the citizen (J) to the filing; with an appointment slip handed back, to
  /// the citizen's appointment notice, with the allowance doubled (TT 17 art. 7.2b).
  private func dossierLeg(_ shipment: Shipment, _ events: [ShipmentEvent]) -> HopTimeliness? {
    guard let start = events.first(where: { $0.kind == .collected }) else { return nil }
    let slip = events.contains { $0.kind == .appointmentReceived }
    // With a slip the leg ends at the citizen's notice, or earlier when the agency finishes
    // first (the result, or a refusal): nothing is left to carry back.
    let ends: Set<EventKind> =
      slip
      ? [.appointmentNotified, .resultReady, .resultCollected, .agencyRejected]
      : [.agencyAccepted, .agencyRejected, .handedToAgency]
    return self.postalLeg(
      .dossierLeg,
      shipment,
      events,
      start: start,
      slip: slip,
      from: self.dossierOrigin(of: shipment),
      to: self.policy.places[shipment.destinationAgency.rawValue],
      ends: ends
    )
  }

  private func dossierOrigin(of shipment: Shipment) -> Place? {
    switch shipment.pickup {
    case .home(let address, _, _): Place(province: address.province, commune: address.commune)
    case .counter(let office): self.policy.places[office.rawValue]
    }
  }

  /// The route class of the dossier's postal leg (the pickup to the agency), which prices its
  /// postage, and why.
  public func dossierRoute(of shipment: Shipment) -> (RouteClass, String) {
    self.policy.routeClass(
      from: self.dossierOrigin(of: shipment),
      to: self.policy.places[shipment.destinationAgency.rawValue],
      map: self.map
    )
  }

  /// The receipt of the result at the agency (J) to the first delivery attempt (TT 17 art. 3.5).
  private func resultLeg(_ shipment: Shipment, _ events: [ShipmentEvent]) -> HopTimeliness? {
    guard let start = events.first(where: { $0.kind == .resultCollected }) else { return nil }
    let address = shipment.applicant.address
    return self.postalLeg(
      .resultLeg,
      shipment,
      events,
      start: start,
      slip: false,
      from: self.policy.places[shipment.destinationAgency.rawValue],
      to: Place(province: address.province, commune: address.commune),
      ends: [.delivered, .deliveryFailed]
    )
  }

  /// A refused dossier's return: its collection (J) to the first delivery attempt, from the
  /// agency's place (or the post office's, when the papers never left it) to the applicant.
  private func returnLeg(_ shipment: Shipment, _ events: [ShipmentEvent]) -> HopTimeliness? {
    guard let start = events.first(where: { $0.kind == .returnCollected }) else { return nil }
    let address = shipment.applicant.address
    let origin =
      shipment.papersAreAtAgency
      ? shipment.destinationAgency.rawValue : shipment.originPostOffice.rawValue
    return self.postalLeg(
      .returnLeg,
      shipment,
      events,
      start: start,
      slip: false,
      from: self.policy.places[origin],
      to: Place(province: address.province, commune: address.commune),
      ends: [.delivered, .deliveryFailed]
    )
  }

  private func postalLeg(
    _ hop: SlaHop,
    _ shipment: Shipment,
    _ events: [ShipmentEvent],
    start: ShipmentEvent,
    slip: Bool,
    from origin: Place?,
    to destination: Place?,
    ends: Set<EventKind>
  ) -> HopTimeliness {
    let (route, why) = self.policy.routeClass(from: origin, to: destination, map: self.map)
    let deadline = self.calculator.postalLeg(
      j: start.occurredAt.dateInVietnam,
      route: route,
      appointmentSlip: slip,
      reasons: [why]
    )
    var timeliness = self.timeliness(
      hop,
      shipment,
      start: start,
      deadline: deadline,
      policyVersion: self.policy.version
    )
    timeliness.routeClass = route
    timeliness.appointmentSlip = slip
    self.close(&timeliness, events: events, after: start, endingWith: ends)
    return timeliness
  }

  /// The filing (or the completion of the one timely supplement) to the result, judged against
  /// the legal due date; a timely supplement request pauses it (``AgencyClock``).
  private func agencyProcessing(
    _ shipment: Shipment,
    _ events: [ShipmentEvent]
  ) -> HopTimeliness? {
    guard let procedure = self.catalog.procedure(shipment.procedure),
      let clock = AgencyClock(
        shipment,
        calendar: self.calendar,
        window: procedure.supplementWindow
      )
    else { return nil }
    var deadline = self.calculator.agencyProcessing(
      filedAt: clock.start.occurredAt,
      workingDays: procedure.processingWorkingDays,
      cutoff: procedure.sameDayCutoff
    )
    deadline.steps = clock.steps + deadline.steps
    if let extended = clock.extendedTo, let event = clock.extensionEvent {
      deadline = self.calculator.extended(
        deadline,
        to: extended,
        on: event.occurredAt.dateInVietnam
      )
    }
    var timeliness = self.timeliness(
      .agencyProcessing,
      shipment,
      start: clock.start,
      deadline: deadline,
      policyVersion: "catalog \(self.catalog.version)"
    )
    timeliness.extendedTo = deadline.extendedTo
    timeliness.appointmentDate = clock.appointment
    timeliness.lateSupplementRequests = clock.flaggedRequests.count
    if let appointment = clock.appointment {
      timeliness.steps.append(
        appointment > deadline.due
          ? "the agency's appointment \(appointment) is LATER than the law allows (\(deadline.due)): judged against \(deadline.due)"
          : "the agency's appointment \(appointment) is within the legal due date \(deadline.due)"
      )
    }
    if let request = clock.timelyRequest, clock.awaitingSupplement {
      timeliness.endSequence = request.sequence
      timeliness.endedAt = request.occurredAt
      timeliness.stoppedBy = .supplementRequested
      timeliness.steps.append("paused by event \(request.sequence) SUPPLEMENT_REQUESTED")
      return timeliness
    }
    self.close(
      &timeliness,
      events: events,
      after: clock.start,
      // The result exists once the agency says so, or once the courier collects it (the
      // agency may hand it over without reporting it ready first).
      endingWith: [.resultReady, .resultCollected, .agencyRejected],
      stoppingWith: [.cancelled, .lost]
    )
    if timeliness.lateWithApology {
      timeliness.steps.append(
        "LATE with apology: finished after the legal due date \(deadline.due), within the extension to \(deadline.extendedTo!)"
      )
    }
    return timeliness
  }

  private func timeliness(
    _ hop: SlaHop,
    _ shipment: Shipment,
    start: ShipmentEvent,
    deadline: Deadline,
    policyVersion: String
  ) -> HopTimeliness {
    // Alerts follow the appointment (an extension's new date); the verdict, the legal date.
    let dueAt = Timestamp.startOfVietnamDay(deadline.appointment.adding(days: 1))
    let hours = self.policy.officeHours
    let budgetDays = max(
      1,
      deadline.workingDays == 0
        ? 1 : self.calendar.workingDays(after: deadline.start, through: deadline.appointment)
    )
    let budget = Double(budgetDays * hours.minutesPerDay)
    let atRisk = hours.instant(
      afterWorkingMinutes: Int((budget * self.policy.atRiskShare).rounded(.up)),
      // A same-day procedure's time is the filing day's; any other counts from the next day.
      countingFrom: deadline.workingDays == 0 ? deadline.start : deadline.start.adding(days: 1),
      calendar: self.calendar
    )
    return HopTimeliness(
      trackingNumber: shipment.trackingNumber,
      hop: hop,
      startSequence: start.sequence,
      startKind: start.kind,
      startedAt: start.occurredAt,
      workingDays: deadline.workingDays,
      countedFrom: deadline.start,
      due: deadline.due,
      dueAt: dueAt,
      atRiskAt: min(atRisk, dueAt),
      calendarVersions: deadline.calendarVersions,
      provisional: deadline.provisional,
      policyVersion: policyVersion,
      routeClass: nil,
      appointmentSlip: false,
      endSequence: nil,
      endedAt: nil,
      verdict: nil,
      stoppedBy: nil,
      workingMinutes: nil,
      agency: shipment.destinationAgency,
      postOffice: shipment.originPostOffice,
      procedure: shipment.procedure,
      steps: deadline.steps,
      rule: deadline.rule
    )
  }

  /// Ends the hop at the first ending event after its start, or stops it at the first stopping
  /// one, whichever comes first.
  private func close(
    _ hop: inout HopTimeliness,
    events: [ShipmentEvent],
    after start: ShipmentEvent,
    endingWith ends: Set<EventKind>,
    stoppingWith stops: Set<EventKind> = [.cancelled, .lost]
  ) {
    let later = events.drop { $0.sequence <= start.sequence }
    guard let end = later.first(where: { ends.contains($0.kind) || stops.contains($0.kind) })
    else { return }
    hop.endSequence = end.sequence
    hop.endedAt = end.occurredAt
    if ends.contains(end.kind) {
      hop.verdict = HopVerdict(endedOn: end.occurredAt.dateInVietnam, due: hop.due)
      hop.workingMinutes = self.policy.officeHours.workingMinutes(
        from: hop.startedAt,
        to: end.occurredAt,
        calendar: self.calendar
      )
      hop.steps.append(
        "ended by event \(end.sequence) \(end.kind.rawValue) on \(end.occurredAt.dateInVietnam): \(hop.verdict!.rawValue)"
      )
    } else {
      hop.stoppedBy = end.kind
      hop.steps.append("stopped by event \(end.sequence) \(end.kind.rawValue)")
    }
  }
}
