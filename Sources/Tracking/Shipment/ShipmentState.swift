/// Which legs the postal service carries (Decision 45/2016/QĐ-TTg art. 5).
public enum ServiceType: String, Hashable, Sendable, CaseIterable {
  /// The dossier from the citizen to the agency.
  case dossierOnly = "DOSSIER_ONLY"
  /// The result from the agency to the citizen.
  case resultOnly = "RESULT_ONLY"
  /// Both legs.
  case dossierAndResult = "DOSSIER_AND_RESULT"

  /// Whether the postal service carries the dossier to the agency.
  public var hasDossierLeg: Bool { self != .resultOnly }
}

/// Where a shipment is. The raw values are what the store keeps.
public enum ShipmentState: String, Hashable, Sendable, CaseIterable {
  /// Pickup booked; nothing collected yet.
  case requested = "REQUESTED"
  /// The citizen was told what is missing; the dossier was not accepted.
  case incompleteGuided = "INCOMPLETE_GUIDED"
  /// Counted and checked, send-slip signed, sealed, fees taken.
  case collected = "COLLECTED"
  /// Every published item of the dossier has a scan.
  case digitized = "DIGITIZED"
  /// On its way to the agency.
  case inTransit = "IN_TRANSIT"
  /// Handover record signed at the agency: the legal filing time (QĐ 45 art. 7.4).
  case handedToAgency = "HANDED_TO_AGENCY"
  /// The agency's appointment slip or date was obtained.
  case appointmentReceived = "APPOINTMENT_RECEIVED"
  /// The citizen was told the result date.
  case appointmentNotified = "APPOINTMENT_NOTIFIED"
  /// Result-only service: waiting for the agency's result.
  case awaitingResult = "AWAITING_RESULT"
  /// The agency says the result is ready to be collected.
  case resultReady = "RESULT_READY"
  /// The courier took the result at the agency, counted and sealed.
  case resultCollected = "RESULT_COLLECTED"
  /// The result is with a courier on the way to the citizen.
  case outForDelivery = "OUT_FOR_DELIVERY"
  /// A delivery failed; the citizen was invited to collect it.
  case attemptFailed = "ATTEMPT_FAILED"
  /// Handed to the citizen (or their proxy) with proof.
  case delivered = "DELIVERED"
  /// Given back to the agency after two invitations went unanswered.
  case returnedToAgency = "RETURNED_TO_AGENCY"
  /// Lost while in postal hands.
  case lost = "LOST"
  /// Cancelled before collection.
  case cancelled = "CANCELLED"
  /// The agency asked for missing items; its processing clock is paused until they arrive.
  case supplementRequested = "SUPPLEMENT_REQUESTED"
  /// The agency refused the dossier; its originals and the refusal notice go back to the
  /// applicant (QĐ 45/2016 art. 8.3; NĐ 61/2018 art. 19.8).
  case rejectedByAgency = "REJECTED_BY_AGENCY"
  /// Return leg: the courier took the originals and the refusal notice (at the agency, or at
  /// the post office when the papers never left it).
  case returnCollected = "RETURN_COLLECTED"
  /// Return leg: on the way to the applicant.
  case returnOutForDelivery = "RETURN_OUT_FOR_DELIVERY"
  /// Return leg: a delivery failed; the applicant was invited to collect the papers.
  case returnAttemptFailed = "RETURN_ATTEMPT_FAILED"
  /// Return leg: the originals and the refusal notice were handed to the applicant with proof.
  case returnedToApplicant = "RETURNED_TO_APPLICANT"

  /// The public status citizens and partners see, in the spirit of AfterShip's tags.
  public var normalized: NormalizedStatus {
    switch self {
    case .requested, .incompleteGuided: .infoReceived
    case .collected, .digitized, .inTransit, .resultCollected, .returnCollected: .inTransit
    case .handedToAgency, .appointmentReceived, .appointmentNotified, .awaitingResult,
      .supplementRequested:
      .atAgency
    case .resultReady: .resultReady
    case .outForDelivery, .returnOutForDelivery: .outForDelivery
    case .attemptFailed, .returnAttemptFailed: .attemptFailed
    case .delivered: .delivered
    case .returnedToAgency, .returnedToApplicant: .returned
    case .lost, .rejectedByAgency: .exception
    case .cancelled: .cancelled
    }
  }

  /// Whether the envelope is in postal hands (where it can be damaged or lost).
  public var isHeldByPost: Bool {
    switch self {
    case .collected, .digitized, .inTransit, .resultCollected, .outForDelivery, .attemptFailed,
      .returnCollected, .returnOutForDelivery, .returnAttemptFailed:
      true
    default: false
    }
  }

  /// Whether the shipment is on the return leg of a refused dossier.
  public var isReturnLeg: Bool {
    switch self {
    case .returnCollected, .returnOutForDelivery, .returnAttemptFailed, .returnedToApplicant: true
    default: false
    }
  }

  /// Whether nothing more can happen to the shipment (but corrections).
  public var isFinal: Bool {
    switch self {
    case .delivered, .returnedToAgency, .returnedToApplicant, .lost, .cancelled: true
    default: false
    }
  }
}

/// The small public status vocabulary derived from the detailed state.
public enum NormalizedStatus: String, Hashable, Sendable, CaseIterable {
  case infoReceived = "INFO_RECEIVED"
  case inTransit = "IN_TRANSIT"
  case atAgency = "AT_AGENCY"
  case resultReady = "RESULT_READY"
  case outForDelivery = "OUT_FOR_DELIVERY"
  case delivered = "DELIVERED"
  case attemptFailed = "ATTEMPT_FAILED"
  case returned = "RETURNED"
  case exception = "EXCEPTION"
  case cancelled = "CANCELLED"
}

/// What can happen to a shipment. The raw values are what the store keeps.
public enum EventKind: String, Hashable, Sendable, CaseIterable {
  /// The pickup was booked (written by registration only).
  case registered = "REGISTERED"
  /// The citizen was guided on what is missing.
  case guidedIncomplete = "GUIDED_INCOMPLETE"
  /// The dossier was counted, checked, sealed and accepted.
  case collected = "COLLECTED"
  /// The dossier left the post office for the agency.
  case dispatched = "DISPATCHED"
  /// Arrival or departure at an intermediate office.
  case transitScan = "TRANSIT_SCAN"
  /// The handover record was signed at the agency.
  case handedToAgency = "HANDED_TO_AGENCY"
  /// The agency's appointment slip or date was obtained.
  case appointmentReceived = "APPOINTMENT_RECEIVED"
  /// The citizen was told the result date.
  case appointmentNotified = "APPOINTMENT_NOTIFIED"
  /// The citizen cancelled before collection.
  case cancelled = "CANCELLED"
  /// One dossier item was digitized.
  case scanned = "SCANNED"
  /// Every published item has a scan (written by the service).
  case digitized = "DIGITIZED"
  /// The agency says the result is ready.
  case resultReady = "RESULT_READY"
  /// The courier took the result at the agency.
  case resultCollected = "RESULT_COLLECTED"
  /// The result left for delivery.
  case outForDelivery = "OUT_FOR_DELIVERY"
  /// The result was handed over with proof.
  case delivered = "DELIVERED"
  /// A delivery attempt failed (an invitation was left).
  case deliveryFailed = "DELIVERY_FAILED"
  /// The result went back to the agency.
  case returnedToAgency = "RETURNED_TO_AGENCY"
  /// The envelope was found damaged, inventoried and re-wrapped.
  case damaged = "DAMAGED"
  /// The envelope was lost.
  case lost = "LOST"
  /// An earlier event is voided.
  case correction = "CORRECTION"
  /// The agency system accepted the electronic handoff: the legal filing time.
  case agencyAccepted = "AGENCY_ACCEPTED"
  /// The agency system refused the electronic handoff.
  case agencyRejected = "AGENCY_REJECTED"
  /// The agency asked for missing items.
  case supplementRequested = "SUPPLEMENT_REQUESTED"
  /// The supplement reached the agency; its clock restarts (NĐ 61 art. 19.4).
  case supplementDelivered = "SUPPLEMENT_DELIVERED"
  /// The agency moved its processing due date, once, with an apology (NĐ 61 art. 19.9).
  case processingExtended = "PROCESSING_EXTENDED"
  /// A refused dossier's originals and refusal notice were taken for return to the applicant.
  case returnCollected = "RETURN_COLLECTED"
  /// Access: staff gave the citizen a new verification code; the old one stopped working. The
  /// event carries no code.
  case verificationCodeReissued = "VERIFICATION_CODE_REISSUED"
  /// Access: staff lifted the tracking lockout of the number after checking the citizen.
  case trackingUnlocked = "TRACKING_UNLOCKED"
  /// Access: the applicant's personal data was erased (retention over, or a lawful request);
  /// the event carries none of it.
  case personalDataErased = "PERSONAL_DATA_ERASED"
  /// Access: the applicant's personal data was corrected at the data subject's request; the
  /// event names the fields and holds the new values sealed.
  case personalDataCorrected = "PERSONAL_DATA_CORRECTED"

  /// Whether the event is about access to the shipment, not its movement (no change of state;
  /// legal in every state; not in the citizen's timeline).
  public var isAccessEvent: Bool {
    self == .verificationCodeReissued || self == .trackingUnlocked
      || self == .personalDataErased || self == .personalDataCorrected
  }

  /// Whether only the agency records the event (staff cannot record or void it).
  public var isAgencyDecision: Bool {
    switch self {
    case .agencyAccepted, .agencyRejected, .supplementRequested, .processingExtended: true
    default: false
    }
  }

  /// Whether the courier takes a sealed envelope from the agency: a result, or a refused
  /// dossier's originals and refusal notice (the handover's seal is the new envelope's).
  public var isCollectionAtAgency: Bool { self == .resultCollected || self == .returnCollected }

  /// Whether the event belongs to the result leg (refused for a dossier-only service).
  public var isResultLeg: Bool {
    switch self {
    case .resultReady, .resultCollected, .outForDelivery, .delivered, .deliveryFailed,
      .returnedToAgency:
      true
    default:
      false
    }
  }

  /// The UPU EMSEVT code for the event where one applies (domestic subset).
  public var upuEventCode: String? {
    switch self {
    case .collected, .resultCollected: "EMA"  // posting / acceptance
    case .outForDelivery: "EDG"  // out for physical delivery
    case .deliveryFailed: "EMH"  // unsuccessful delivery attempt
    case .delivered: "EMI"  // final delivery
    default: nil
    }
  }
}
