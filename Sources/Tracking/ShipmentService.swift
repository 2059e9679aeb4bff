/// The use cases of the first slice: book a pickup, record events, look shipments up, and let
/// a citizen track one. Holds no state of its own beyond the tracking throttle.
public struct ShipmentService: Sendable {
  /// How far ahead of the server's clock a device's clock may be.
  public static let clockSkewTolerance: Duration = .seconds(5 * 60)

  let store: any ShipmentStore
  let writer: ShipmentWriter
  let codes: VerificationCodeIssuer
  let throttle: TrackingThrottle
  let serviceIndicator: ServiceIndicator
  let catalog: CatalogHolder
  let calendar: any WorkingCalendar
  let personalData: PersonalDataHasher
  let handovers: HandoverVerifier
  let routes: HandoffRoutesHolder
  let timekeeper: SlaTimekeeper?
  let map: AdministrativeMapHolder?
  let blindIndex: BlindIndex?
  let notifications: NotificationSettingsHolder?

  /// Creates the service.
  /// - Parameters:
  ///   - store: Where shipments live.
  ///   - codes: Issues and checks citizens' verification codes.
  ///   - throttle: Limits failed tracking attempts.
  ///   - serviceIndicator: The S10 service indicator new numbers are minted with.
  ///   - catalog: The procedure catalog in force.
  ///   - calendar: Working days, for the spacing of delivery invitations.
  ///   - personalData: Hashes identity numbers seen at delivery.
  ///   - handovers: Checks co-signed handovers.
  ///   - routes: The agencies that receive dossiers electronically.
  ///   - timekeeper: Works out each leg's due date and verdict, and the agency due date citizens
  ///     see (none: no due dates).
  ///   - map: The administrative map addresses are checked against (none: not checked).
  ///   - blindIndex: Digests staff find applicants by (none: registrations are not findable).
  ///   - notifications: The channels citizens may choose and the webhook subscriptions (none:
  ///     no messages, and no channel but ``NotificationChannel/none`` may be chosen).
  public init(
    store: any ShipmentStore,
    codes: VerificationCodeIssuer,
    throttle: TrackingThrottle,
    serviceIndicator: ServiceIndicator,
    catalog: CatalogHolder,
    calendar: any WorkingCalendar = MondayToFridayCalendar(),
    personalData: PersonalDataHasher,
    handovers: HandoverVerifier,
    routes: HandoffRoutesHolder = HandoffRoutesHolder(),
    timekeeper: SlaTimekeeper? = nil,
    map: AdministrativeMapHolder? = nil,
    blindIndex: BlindIndex? = nil,
    notifications: NotificationSettingsHolder? = nil
  ) {
    self.notifications = notifications
    self.blindIndex = blindIndex
    self.map = map
    self.timekeeper = timekeeper
    self.writer = ShipmentWriter(
      timekeeper: timekeeper,
      notifications: notifications.map(NotificationPlanner.init)
    )
    self.routes = routes
    self.handovers = handovers
    self.store = store
    self.codes = codes
    self.throttle = throttle
    self.serviceIndicator = serviceIndicator
    self.catalog = catalog
    self.calendar = calendar
    self.personalData = personalData
  }

  /// Books a pickup: mints the number, stores the shipment and its registration event, and
  /// issues the citizen's code.
  /// - Parameters:
  ///   - registration: What to book.
  ///   - actor: Who books it.
  ///   - idempotencyKey: The request's key; a retry returns the original shipment and code.
  ///   - now: The current time.
  /// - Returns: The shipment and the code.
  /// - Throws: ``TrackingError`` (`.requestIDReused`, `.exhausted`, `.storageFailure`).
  public func registerPickup(
    _ registration: PickupRegistration,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RegisteredPickup {
    let catalog = self.catalog.current
    guard let procedure = catalog.procedure(registration.procedure) else {
      throw TrackingError.invalidField(
        "procedure_code",
        "is not in the procedure catalog (version \(catalog.version))"
      )
    }
    guard !procedure.inPersonOnly else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "procedure \(procedure.code) requires the citizen to appear in person"
      )
    }
    guard procedure.postalEligible else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "procedure \(procedure.code) is not accepted by post"
      )
    }
    var registration = registration
    registration.destinationAgency = try procedure.destination(
      named: registration.destinationAgency,
      forApplicantIn: registration.applicant.address.commune,
      directory: catalog.directory
    )
    // Set just above.
    try self.checkPlaces(registration, agency: registration.destinationAgency!)
    try self.checkOffered(registration.notificationChannel, field: "notification_channel")
    switch try await self.store.remembered(idempotencyKey) {
    case .registration(let stored):
      return RegisteredPickup(
        shipment: stored.shipment,
        code: self.codes.code(for: stored.commitment),
        isReplay: true
      )
    case .events:
      throw TrackingError.requestIDReused()
    case nil:
      break
    }
    var generator = SystemRandomNumberGenerator()
    let (_, commitment) = self.codes.issue(using: &generator)
    let draft = ShipmentDraft(
      serviceType: registration.serviceType,
      applicant: registration.applicant,
      procedure: registration.procedure,
      // Set just above.
      destinationAgency: registration.destinationAgency!,
      pickup: registration.pickup,
      actor: actor.id,
      now: now,
      custodySalt: (0 ..< 16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    )
    let writer = self.writer
    let digests = self.blindIndex?.digests(of: registration.applicant) ?? []
    let consent = NotificationConsent(
      channel: registration.notificationChannel,
      changedAt: now,
      source: .registration,
      actor: actor.id
    )
    let outcome = try await self.store.register(
      indicator: self.serviceIndicator,
      idempotencyKey: idempotencyKey
    ) { number in
      var shipment = draft.shipment(number: number)
      shipment.notificationChannel = consent.channel
      var built = writer.registration(
        shipment,
        commitment: commitment,
        custodySalt: draft.custodySalt,
        idempotencyKey: idempotencyKey
      )
      built.lookupDigests = digests
      built.consent = consent
      return built
    }
    let stored = outcome.value
    return RegisteredPickup(
      shipment: stored.shipment,
      code: self.codes.code(for: stored.commitment),
      isReplay: outcome.isReplay
    )
  }

  /// The address's province and commune checked against the administrative map in force.
  func addressViolations(_ address: Address, at path: String) -> [TrackingError.FieldViolation] {
    guard let map = self.map?.current else { return [] }
    do {
      try map.checkProvince(address.province)
    } catch let invalid as InvalidValue {
      return [.init(field: "\(path).province_code", reason: invalid.reason)]
    } catch {
      return []
    }
    do {
      try map.checkCommune(address.commune, in: address.province)
    } catch let invalid as InvalidValue {
      return [.init(field: "\(path).commune_code", reason: invalid.reason)]
    } catch {}
    return []
  }

  /// Checks that the shipment's places are real: addresses on the administrative map in force,
  /// and the post office and agency placed by the SLA policy, so that every leg's route class
  /// comes from real places (an unknown place is the clerk's error now, not a silent default).
  /// - Throws: ``TrackingError`` `.invalidArgument` naming each field.
  func checkPlaces(_ registration: PickupRegistration, agency: AgencyCode) throws {
    var violations = self.addressViolations(registration.applicant.address, at: "applicant.address")
    if case .home(let address, _, _) = registration.pickup {
      violations += self.addressViolations(address, at: "pickup.home.address")
    }
    if let policy = self.timekeeper?.inputs.policy {
      if case .counter(let office) = registration.pickup, policy.places[office.rawValue] == nil {
        violations.append(
          .init(
            field: "pickup.counter.post_office_code",
            reason: "has no place in SLA policy \(policy.version): its route class cannot be known"
          )
        )
      }
      if policy.places[agency.rawValue] == nil {
        violations.append(
          .init(
            field: "destination_agency_code",
            reason: "has no place in SLA policy \(policy.version): its route class cannot be known"
          )
        )
      }
    }
    if !violations.isEmpty { throw TrackingError.invalidArgument(violations) }
  }

  /// Records an event if the transition table allows it in the shipment's current state.
  /// - Parameters:
  ///   - recording: What happened.
  ///   - actor: Who records it.
  ///   - idempotencyKey: The request's key; a retry returns the original result.
  ///   - now: The current time.
  /// - Returns: The shipment right after the event, and the event.
  /// - Throws: ``TrackingError``: `.invalidArgument` for a registration event, a time too far
  ///   ahead or a missing location; `.notFound`; `.illegalTransition`; `.requestIDReused`;
  ///   `.storageFailure`.
  public func recordEvent(
    _ recording: EventRecording,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    let kind = recording.kind
    if let dedicated = Self.dedicatedRPC[kind] {
      throw TrackingError.invalidField("type", "\(kind.rawValue) is recorded with \(dedicated)")
    }
    let context = EventContext(
      occurredAt: recording.occurredAt,
      location: recording.location,
      note: recording.note
    )
    let calendar = self.calendar
    let handover =
      kind == .handedToAgency
      ? try await self.prepareHandover(
        kind,
        recording.handover,
        context: context,
        actor: actor,
        now: now
      )
      : nil
    return try await self.append(
      to: recording.trackingNumber,
      context: context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      let shipment = stored.shipment
      if kind == .returnedToAgency {
        try Self.checkInvitationsAllowReturn(shipment, calendar: calendar, now: now)
      }
      let details = recording.appointmentDate.map { EventDetails.appointment($0) }
      return [PlannedEvent(kind, details, handover: try handover?(shipment, nil))]
    }
  }

  /// Event kinds that have their own RPC because they carry details.
  static let dedicatedRPC: [EventKind: String] = [
    .registered: "RegisterPickup",
    .collected: "RecordCollection",
    .guidedIncomplete: "RecordCollection",
    .scanned: "UploadScan",
    .digitized: "UploadScan (it follows the last missing scan)",
    .resultCollected: "RecordResultCollected",
    .delivered: "RecordDeliveryAttempt",
    .deliveryFailed: "RecordDeliveryAttempt",
    .damaged: "RecordDamage",
    .correction: "CorrectEvent",
    .agencyAccepted: "AgencyService.AcknowledgeHandoff (agencies only)",
    .agencyRejected: "AgencyService.AcknowledgeHandoff (agencies only)",
    .supplementRequested: "AgencyService.RequestSupplement (agencies only)",
    .processingExtended: "AgencyService.ExtendProcessing (agencies only)",
    .verificationCodeReissued: "ReissueVerificationCode",
    .trackingUnlocked: "UnlockTracking",
  ]

  /// A shipment with its history.
  /// - Parameter number: The tracking number.
  /// - Throws: ``TrackingError`` `.notFound` or `.storageFailure`.
  public func shipment(_ number: TrackingNumber) async throws -> Shipment {
    try await self.stored(number).shipment
  }

  /// A shipment as stored: its history and its stored hops.
  /// - Parameter number: The tracking number.
  /// - Throws: ``TrackingError`` `.notFound` or `.storageFailure`.
  public func stored(_ number: TrackingNumber) async throws -> RegisteredShipment {
    guard let stored = try await self.store.shipmentWithCommitment(number) else {
      throw TrackingError.shipmentNotFound()
    }
    return stored
  }

  /// The scan with this document code, and its shipment's number.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func scan(documentCode: String) async throws -> (TrackingNumber, Scan)? {
    try await self.store.scan(documentCode: documentCode)
  }

  /// One page of shipments, newest first.
  /// - Parameter query: Filters, page size and position.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func shipments(matching query: ShipmentQuery) async throws -> ShipmentPage {
    try await self.store.shipments(matching: query)
  }

  /// The citizen's view of a shipment, if the code matches.
  ///
  /// An unknown number and a wrong code give the same error after the same work, and both count
  /// as a failure for the requested number and the client.
  /// - Parameters:
  ///   - number: The tracking number.
  ///   - code: The code the citizen typed.
  ///   - client: Where the attempt comes from (the client's address), for the throttle.
  ///   - now: The current time.
  /// - Throws: ``TrackingError`` `.notFound`, `.throttled` (with the delay) or
  ///   `.storageFailure`.
  public func track(
    _ number: TrackingNumber,
    code: VerificationCode,
    client: String,
    now: Timestamp
  ) async throws -> TrackedShipment {
    let stored = try await self.authenticateCitizen(number, code: code, client: client, now: now)
    return TrackedShipment(
      stored.shipment,
      agencyDeadline: Self.agencyDeadline(of: stored),
      hops: stored.hops
    )
  }

  /// The shipment (with its salt) for the holder of its number and code: an unknown number and
  /// a wrong code give the same error after the same work, and both count as a failure for the
  /// requested number and the client (``TrackingThrottle``).
  /// - Throws: ``TrackingError`` `.notFound`, `.throttled` (with the delay) or `.storageFailure`.
  public func authenticateCitizen(
    _ number: TrackingNumber,
    code: VerificationCode,
    client: String,
    now: Timestamp
  ) async throws -> RegisteredShipment {
    if let delay = self.throttle.admit(number.rawValue, from: client, now: now) {
      throw TrackingError(
        code: .throttled,
        message:
          "too many failed attempts for this number; try again in \(Self.wholeMinutes(delay))",
        retryAfter: delay
      )
    }
    let stored = try await self.store.shipmentWithCommitment(number)
    guard self.codes.verify(code, against: stored?.commitment), let stored else {
      self.throttle.recordFailure(number.rawValue, from: client, now: now)
      throw TrackingError.shipmentNotFound()
    }
    self.throttle.recordSuccess(number.rawValue, from: client)
    return stored
  }
}

extension ShipmentService {
  /// The working minutes of a day under the SLA policy in force.
  public var workingMinutesPerDay: Int {
    self.timekeeper?.inputs.policy.officeHours.minutesPerDay ?? OfficeHours.standard.minutesPerDay
  }

  /// The agency's processing deadline while it runs, from the stored hop: counted from the
  /// filing (the agency's acceptance, or the signed physical handover) or from the completion
  /// of the one timely supplement request; none while that supplement is awaited or once the
  /// result is ready.
  public static func agencyDeadline(of stored: RegisteredShipment) -> Deadline? {
    guard let hop = stored.hops.first(where: { $0.hop == .agencyProcessing && $0.isRunning })
    else { return nil }
    return Deadline(
      start: hop.countedFrom,
      workingDays: hop.workingDays,
      due: hop.due,
      extendedTo: hop.extendedTo,
      calendarVersions: hop.calendarVersions,
      provisional: hop.provisional,
      steps: hop.steps,
      rule: hop.rule
    )
  }
}
