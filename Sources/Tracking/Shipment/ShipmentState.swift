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
  /// Cancelled before collection.
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
}
