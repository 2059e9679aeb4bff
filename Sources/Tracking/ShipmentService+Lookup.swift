extension ShipmentService {
  /// The filter of staff looking an applicant up by identity number (citizen id or passport)
  /// or by phone: the store sees only the value's ``BlindIndex`` digest.
  /// - Throws: ``TrackingError`` `.failedPrecondition` when the service has no blind index.
  public func personFilter(identityNumber: String) throws -> String {
    try self.requireBlindIndex().identityNumber(identityNumber)
  }

  /// The same for a mobile number.
  /// - Throws: ``TrackingError`` `.failedPrecondition` when the service has no blind index.
  public func personFilter(phone: MobileNumber) throws -> String {
    try self.requireBlindIndex().phone(phone)
  }

  /// Every shipment found by a blind-index digest, newest first, each with its full history.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func shipments(ofPerson digest: String) async throws -> [Shipment] {
    var numbers: [TrackingNumber] = []
    var query = ShipmentQuery(
      filter: .init(person: digest),
      pageSize: ShipmentQuery.maximumPageSize
    )
    while true {
      let page = try await self.store.shipments(matching: query)
      numbers += page.shipments.map(\.trackingNumber)
      guard let next = page.next else { break }
      query.after = next
    }
    var shipments: [Shipment] = []
    for number in numbers { shipments.append(try await self.stored(number).shipment) }
    return shipments
  }

  /// Indexes the shipments registered before the blind index existed.
  /// - Returns: How many it indexed.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func indexUnindexedApplicants() async throws -> Int {
    guard let index = self.blindIndex else { return 0 }
    return try await self.store.indexApplicants { index.digests(of: $0) }
  }

  /// "1 minute", "15 minutes": a wait as a person reads it, rounded up.
  static func wholeMinutes(_ delay: Duration) -> String {
    let minutes = max(1, Int((delay.components.seconds + 59) / 60))
    return minutes == 1 ? "1 minute" : "\(minutes) minutes"
  }

  private func requireBlindIndex() throws -> BlindIndex {
    guard let index = self.blindIndex else {
      throw TrackingError(code: .failedPrecondition, message: "lookup by person is not enabled")
    }
    return index
  }
}
