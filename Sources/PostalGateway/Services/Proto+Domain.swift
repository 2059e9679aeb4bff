import Proto
import SwiftProtobuf
import Tracking

// The one place where wire messages become domain values and back. Every field that enters is
// validated here, and a malformed one is reported by its path in the request.

// MARK: - Requests → domain

extension Postalgateway_V1_RegisterPickupRequest {
  /// The validated registration.
  /// - Parameters:
  ///   - actor: The caller (its post office is the default for a home pickup).
  ///   - now: The current time (citizen ids may not encode a future birth year; a pickup window
  ///     may not be over).
  /// - Throws: ``TrackingError`` `.invalidArgument` naming every malformed field.
  func domain(actor: Actor, now: Timestamp) throws -> (RequestID, PickupRegistration) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let serviceType = v.check("service_type") { try ServiceType(self.serviceType) }
    let applicant =
      self.hasApplicant
      ? self.applicant.domain(at: "applicant", currentYear: now.yearInVietnam, validator: &v)
      : {
        v.fail("applicant", "is required")
        return nil
      }()
    let procedure = v.check("procedure_code") { try ProcedureCode(validating: self.procedureCode) }
    // Empty means the catalog's agency for the procedure.
    let agency =
      self.destinationAgencyCode.isEmpty
      ? nil
      : v.check("destination_agency_code") {
        try AgencyCode(validating: self.destinationAgencyCode)
      }
    let pickup = self.pickup.domain(at: "pickup", actor: actor, now: now, validator: &v)
    // Not given: no consent.
    let channel =
      self.notificationChannel == .unspecified
      ? NotificationChannel.none
      : v.check("notification_channel") { try NotificationChannel(self.notificationChannel) }
    try v.finish()
    // finish() threw if any of these is nil.
    var registration = PickupRegistration(
      serviceType: serviceType!,
      applicant: applicant!,
      procedure: procedure!,
      destinationAgency: agency,
      pickup: pickup!
    )
    registration.notificationChannel = channel!
    return (requestID!, registration)
  }
}

extension Postalgateway_V1_Applicant {
  func domain(
    at path: String,
    currentYear: Int,
    validator v: inout RequestValidator
  ) -> Applicant? {
    let name = v.check("\(path).full_name") { try PersonName(validating: self.fullName) }
    let identity = PersonalIdentity.domain(
      self.identity.map { .init($0) },
      at: path,
      currentYear: currentYear,
      validator: &v
    )
    let phone = v.check("\(path).phone") { try MobileNumber(validating: self.phone) }
    let address =
      self.hasAddress
      ? self.address.domain(at: "\(path).address", validator: &v)
      : {
        v.fail("\(path).address", "is required")
        return nil
      }()
    var organisation: Organisation?
    if self.hasOrganisation {
      let code = v.check("\(path).organisation.enterprise_code") {
        try EnterpriseCode(validating: self.organisation.enterpriseCode)
      }
      let name = v.check("\(path).organisation.name") {
        try BoundedText(validating: self.organisation.name, maximumLength: 200, required: true)
      }
      guard let code, let name else { return nil }
      organisation = Organisation(code: code, name: name)
    }
    var authorized: Person?
    if self.hasAuthorizedPerson {
      let person = self.authorizedPerson
      let at = "\(path).authorized_person"
      let name = v.check("\(at).full_name") { try PersonName(validating: person.fullName) }
      let identity = PersonalIdentity.domain(
        person.identity.map { .init($0) },
        at: at,
        currentYear: currentYear,
        validator: &v
      )
      guard let name, let identity else { return nil }
      authorized = Person(name: name, identity: identity)
    }
    guard let name, let identity, let phone, let address else { return nil }
    return Applicant(
      name: name,
      identity: identity,
      phone: phone,
      address: address,
      organisation: organisation,
      authorizedPerson: authorized
    )
  }
}

/// A person's identity as either wire message carries it.
private enum WireIdentity {
  case citizenID(String)
  case passport(Postalgateway_V1_Passport)

  init(_ identity: Postalgateway_V1_Applicant.OneOf_Identity) {
    switch identity {
    case .citizenID(let id): self = .citizenID(id)
    case .passport(let passport): self = .passport(passport)
    }
  }

  init(_ identity: Postalgateway_V1_Person.OneOf_Identity) {
    switch identity {
    case .citizenID(let id): self = .citizenID(id)
    case .passport(let passport): self = .passport(passport)
    }
  }
}

extension PersonalIdentity {
  fileprivate static func domain(
    _ identity: WireIdentity?,
    at path: String,
    currentYear: Int,
    validator v: inout RequestValidator
  ) -> PersonalIdentity? {
    switch identity {
    case nil:
      v.fail("\(path).citizen_id", "is required (a foreigner gives passport instead)")
      return nil
    case .citizenID(let id):
      return v.check("\(path).citizen_id") {
        .citizen(try CitizenID(validating: id, currentYear: currentYear))
      }
    case .passport(let passport):
      let number = v.check("\(path).passport.number") {
        try PassportNumber(validating: passport.number)
      }
      let nationality = v.check("\(path).passport.nationality") {
        try Nationality(validating: passport.nationality)
      }
      guard let number, let nationality else { return nil }
      return .foreigner(passport: number, nationality: nationality)
    }
  }
}

extension Postalgateway_V1_Address {
  fileprivate func domain(at path: String, validator v: inout RequestValidator) -> Address? {
    let province = v.check("\(path).province_code") {
      try ProvinceCode(validating: self.provinceCode)
    }
    let commune = v.check("\(path).commune_code") { try CommuneCode(validating: self.communeCode) }
    let detail = v.check("\(path).detail") {
      try BoundedText(validating: self.detail, maximumLength: 200, required: true)
    }
    guard let province, let commune, let detail else { return nil }
    return Address(province: province, commune: commune, detail: detail)
  }
}

extension Postalgateway_V1_Pickup {
  fileprivate func domain(
    at path: String,
    actor: Actor,
    now: Timestamp,
    validator v: inout RequestValidator
  ) -> Pickup? {
    switch self.location {
    case .counter(let counter):
      let office = v.check("\(path).counter.post_office_code") {
        try PostOfficeCode(validating: counter.postOfficeCode)
      }
      return office.map(Pickup.counter)
    case .home(let home):
      let address =
        home.hasAddress
        ? home.address.domain(at: "\(path).home.address", validator: &v)
        : {
          v.fail("\(path).home.address", "is required")
          return nil
        }()
      var window: TimeWindow?
      if home.hasWindow, home.window.hasStart, home.window.hasEnd {
        let start = v.check("\(path).home.window.start") { try Timestamp(home.window.start) }
        let end = v.check("\(path).home.window.end") { try Timestamp(home.window.end) }
        if let start, let end {
          window = v.check("\(path).home.window") {
            try TimeWindow(validatingPickup: start, end: end, now: now)
          }
        }
      } else {
        v.fail("\(path).home.window", "start and end are required")
      }
      var office: PostOfficeCode?
      if home.postOfficeCode.isEmpty {
        office = actor.postOffice
        if office == nil { v.fail("\(path).home.post_office_code", "is required") }
      } else {
        office = v.check("\(path).home.post_office_code") {
          try PostOfficeCode(validating: home.postOfficeCode)
        }
      }
      guard let address, let window, let office else { return nil }
      return .home(address: address, window: window, postOffice: office)
    case nil:
      v.fail(path, "either counter or home is required")
      return nil
    }
  }
}

extension Postalgateway_V1_RecordEventRequest {
  /// The validated recording.
  /// - Parameter trustDomain: The trust domain of a handover's counterparty.
  /// - Throws: ``TrackingError`` `.invalidArgument` naming every malformed field.
  func domain(trustDomain: String) throws -> (RequestID, EventRecording) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") { try TrackingNumber(validating: self.trackingNumber) }
    let kind = v.check("type") { try EventKind(self.type) }
    let occurredAt =
      self.hasOccurredAt ? v.check("occurred_at") { try Timestamp(self.occurredAt) } : nil
    let location =
      self.location.isEmpty
      ? nil : v.check("location") { try PostOfficeCode(validating: self.location) }
    let note = v.check("note") {
      try BoundedText(validating: self.note, maximumLength: 500, required: false)
    }
    let handover =
      self.hasHandover ? self.handover.domain(trustDomain: trustDomain, validator: &v) : nil
    let appointment =
      self.appointmentDate.isEmpty
      ? nil : v.check("appointment_date") { try CivilDate(iso: self.appointmentDate) }
    if appointment != nil, kind != nil, kind != .appointmentReceived {
      v.fail("appointment_date", "goes only with APPOINTMENT_RECEIVED")
    }
    try v.finish()
    // finish() threw if any required value is nil.
    return (
      requestID!,
      EventRecording(
        trackingNumber: number!,
        kind: kind!,
        occurredAt: occurredAt,
        location: location,
        note: note,
        handover: handover,
        appointmentDate: appointment
      )
    )
  }
}

extension Postalgateway_V1_ListShipmentsRequest {
  /// The validated query, and the caller's purpose for the access audit.
  /// - Parameter lookup: The service, for the blind-index digest of an identity number or phone.
  /// - Throws: ``TrackingError`` `.invalidArgument` naming every malformed field.
  func domain(
    lookup: ShipmentService
  ) throws -> (query: ShipmentQuery, purpose: String) {
    var v = RequestValidator()
    let purpose = v.check("purpose") { try AccessAuditor.purpose(self.purpose) }
    var filter = ShipmentQuery.Filter()
    filter.person = v.person(
      identityNumber: self.applicantIdentityNumber,
      phone: self.applicantPhone,
      lookup: lookup,
      required: false
    )
    if self.state != .unspecified {
      filter.state = v.check("state") { try ShipmentState(self.state) }
    }
    if !self.postOfficeCode.isEmpty {
      filter.postOffice = v.check("post_office_code") {
        try PostOfficeCode(validating: self.postOfficeCode)
      }
    }
    if self.hasCreatedAfter {
      filter.createdAtOrAfter = v.check("created_after") { try Timestamp(self.createdAfter) }
    }
    if self.hasCreatedBefore {
      filter.createdBefore = v.check("created_before") { try Timestamp(self.createdBefore) }
    }
    var pageSize = ShipmentQuery.defaultPageSize
    if self.pageSize < 0 || self.pageSize > ShipmentQuery.maximumPageSize {
      v.fail("page_size", "must be between 0 and \(ShipmentQuery.maximumPageSize)")
    } else if self.pageSize > 0 {
      pageSize = Int(self.pageSize)
    }
    try v.finish()
    var cursor: ShipmentQuery.Cursor?
    if !self.pageToken.isEmpty {
      cursor = v.check("page_token") { try PageToken.decode(self.pageToken, filter: filter) }
      try v.finish()
    }
    // finish() threw if it is nil.
    return (ShipmentQuery(filter: filter, pageSize: pageSize, after: cursor), purpose!)
  }
}

// MARK: - Enums

extension ServiceType {
  init(_ proto: Postalgateway_V1_ServiceType) throws {
    switch proto {
    case .dossierOnly: self = .dossierOnly
    case .resultOnly: self = .resultOnly
    case .dossierAndResult: self = .dossierAndResult
    case .unspecified, .UNRECOGNIZED:
      throw InvalidValue("must be DOSSIER_ONLY, RESULT_ONLY or DOSSIER_AND_RESULT")
    }
  }

  var proto: Postalgateway_V1_ServiceType {
    switch self {
    case .dossierOnly: .dossierOnly
    case .resultOnly: .resultOnly
    case .dossierAndResult: .dossierAndResult
    }
  }
}

extension ShipmentState {
  init(_ proto: Postalgateway_V1_ShipmentState) throws {
    guard let state = Self.allCases.first(where: { $0.proto == proto }) else {
      throw InvalidValue("is not a known shipment state")
    }
    self = state
  }

  var proto: Postalgateway_V1_ShipmentState {
    switch self {
    case .requested: .requested
    case .incompleteGuided: .incompleteGuided
    case .collected: .collected
    case .inTransit: .inTransit
    case .handedToAgency: .handedToAgency
    case .appointmentReceived: .appointmentReceived
    case .appointmentNotified: .appointmentNotified
    case .awaitingResult: .awaitingResult
    case .cancelled: .cancelled
    case .digitized: .digitized
    case .resultReady: .resultReady
    case .resultCollected: .resultCollected
    case .outForDelivery: .outForDelivery
    case .attemptFailed: .attemptFailed
    case .delivered: .delivered
    case .returnedToAgency: .returnedToAgency
    case .lost: .lost
    case .supplementRequested: .supplementRequested
    case .rejectedByAgency: .rejectedByAgency
    case .returnCollected: .returnCollected
    case .returnOutForDelivery: .returnOutForDelivery
    case .returnAttemptFailed: .returnAttemptFailed
    case .returnedToApplicant: .returnedToApplicant
    }
  }
}

extension EventKind {
  init(_ proto: Postalgateway_V1_EventType) throws {
    guard let kind = Self.allCases.first(where: { $0.proto == proto }) else {
      throw InvalidValue("is not a known event type")
    }
    self = kind
  }

  var proto: Postalgateway_V1_EventType {
    switch self {
    case .registered: .registered
    case .guidedIncomplete: .guidedIncomplete
    case .collected: .collected
    case .dispatched: .dispatched
    case .transitScan: .transitScan
    case .handedToAgency: .handedToAgency
    case .appointmentReceived: .appointmentReceived
    case .appointmentNotified: .appointmentNotified
    case .cancelled: .cancelled
    case .scanned: .scanned
    case .digitized: .digitized
    case .resultReady: .resultReady
    case .resultCollected: .resultCollected
    case .outForDelivery: .outForDelivery
    case .delivered: .delivered
    case .deliveryFailed: .deliveryFailed
    case .returnedToAgency: .returnedToAgency
    case .damaged: .damaged
    case .lost: .lost
    case .correction: .correction
    case .agencyAccepted: .agencyAccepted
    case .agencyRejected: .agencyRejected
    case .supplementRequested: .supplementRequested
    case .supplementDelivered: .supplementDelivered
    case .processingExtended: .processingExtended
    case .returnCollected: .returnCollected
    case .verificationCodeReissued: .verificationCodeReissued
    case .trackingUnlocked: .trackingUnlocked
    case .personalDataErased: .personalDataErased
    case .personalDataCorrected: .personalDataCorrected
    }
  }
}

// MARK: - Time

extension Timestamp {
  /// The instant of a wire timestamp, refusing values outside years 1–9999 or bad nanoseconds.
  init(_ proto: Google_Protobuf_Timestamp) throws {
    guard (-62_135_596_800 ... 253_402_300_799).contains(proto.seconds),
      (0 ..< 1_000_000_000).contains(proto.nanos)
    else {
      throw InvalidValue("is not a valid timestamp")
    }
    self.init(seconds: proto.seconds, nanoseconds: proto.nanos)
  }

  var proto: Google_Protobuf_Timestamp {
    Google_Protobuf_Timestamp(seconds: self.seconds, nanos: self.nanoseconds)
  }
}

// MARK: - Domain → responses
