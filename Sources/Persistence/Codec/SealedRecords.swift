public import Crypto
public import Foundation
public import Tracking

/// How every backend keeps a shipment's personal fields and an event's note, details and
/// handover: the same sealed bytes under the same data keys on SQLite and PostgreSQL (so a
/// database moves between them without re-encryption). A backend stores the wrapped data keys
/// and the bytes; this type does the rest.
package struct SealedRecords: Sendable {
  let cipher: FieldCipher

  /// Sealing under data keys wrapped by `keys`.
  package init(keys: any KeyEncryptionKeys) {
    self.cipher = FieldCipher(keys: keys)
  }

  /// Sealing with a cipher the SQLite store already has.
  init(cipher: FieldCipher) {
    self.cipher = cipher
  }

  /// A data key held in memory, with the id its backend gave it.
  package struct Key: Sendable {
    let key: DataKey
    /// The backend's id of the key's row.
    package var id: Int64 { self.key.id }

    init(key: DataKey) { self.key = key }
  }

  /// A new data key, wrapped for storage; the backend stores it and then calls
  /// ``key(id:wrapped:)`` or ``stored(_:id:)`` with the row's id.
  package func newKey() throws -> (key: SymmetricKey, wrapped: WrappedDataKey) {
    let key = SymmetricKey(size: .bits256)
    return (key, try self.cipher.keys.wrap(key))
  }

  /// A new key once its row has an id.
  package func stored(_ key: SymmetricKey, id: Int64) -> Key {
    Key(key: DataKey(id: id, key: key))
  }

  /// A stored key, unwrapped.
  package func key(id: Int64, wrapped: WrappedDataKey) throws -> Key {
    Key(key: DataKey(id: id, key: try self.cipher.keys.unwrap(wrapped)))
  }

  /// A shipment's personal fields, sealed for its `sealed` column.
  package func seal(_ shipment: Shipment, with key: Key) throws -> Data {
    try self.cipher.seal(
      try ShipmentRows.encoder.encode(PersonalFields(shipment)),
      with: key.key,
      context: PersonalFields.context(shipment.trackingNumber.rawValue)
    )
  }

  /// The applicant and the home pickup's address detail from a shipment's sealed fields.
  package func openApplicant(
    _ sealed: Data,
    of number: String,
    province: String,
    commune: String,
    with key: Key
  ) throws -> (applicant: Applicant, pickupAddress: String?) {
    let fields = try JSONDecoder().decode(
      PersonalFields.self,
      from: try self.cipher.open(sealed, with: key.key, context: PersonalFields.context(number))
    )
    return (try fields.applicant(province: province, commune: commune), fields.pickupAddress)
  }

  /// An event's note and details sealed, or `nil` when it has neither.
  /// - Throws: ``TrackingError`` `.failedPrecondition` when there is something to seal and no
  ///   key (the shipment's personal data was erased).
  package func seal(_ event: ShipmentEvent, of number: String, with key: Key?) throws -> Data? {
    guard event.note != nil || event.details != nil else { return nil }
    guard let key else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "the shipment's personal data was erased; nothing more can be recorded on it"
      )
    }
    let secrets = PersonalFields.EventSecrets(
      note: event.note,
      payload: event.details.map(EventPayload.init)
    )
    return try self.cipher.seal(
      try ShipmentRows.encoder.encode(secrets),
      with: key.key,
      context: PersonalFields.eventContext(number, event.sequence)
    )
  }

  /// An event's note and details from its sealed column.
  package func openEvent(
    _ sealed: Data,
    of number: String,
    sequence: Int,
    with key: Key
  ) throws -> (note: String?, details: EventDetails?) {
    let secrets = try JSONDecoder().decode(
      PersonalFields.EventSecrets.self,
      from: try self.cipher.open(
        sealed,
        with: key.key,
        context: PersonalFields.eventContext(number, sequence)
      )
    )
    return (secrets.note, try secrets.payload.map { try $0.details() })
  }

  /// Bytes sealed under a key, bound to `context` (what they are and whose).
  package func seal(_ plaintext: Data, context: String, with key: Key) throws -> Data {
    try self.cipher.seal(plaintext, with: key.key, context: context)
  }

  /// Bytes sealed by ``seal(_:context:with:)`` with the same context.
  package func open(_ sealed: Data, context: String, with key: Key) throws -> Data {
    try self.cipher.open(sealed, with: key.key, context: context)
  }

  /// The context a rating's comment is sealed in (under its shipment's key).
  package static func ratingContext(_ number: String) -> String {
    SQLiteRatingStore.context(number)
  }

  /// The context a handheld's queued request is sealed in (under a key of its own).
  package static func deviceContext(caller: String, deviceID: String, sequence: Int) -> String {
    SQLiteOfflineSyncStore.context(caller: caller, deviceID: deviceID, sequence: sequence)
  }

  /// The context one chunk of a stored scan is sealed in (under the scan's own key).
  package static func scanChunkContext(keyID: Int64, chunk: Int) -> String {
    "scan \(keyID) chunk \(chunk)"
  }

  /// A handover's parties and signatures as kept in the `handover` column (not personal data).
  package static func encode(_ handover: HandoverRecord) throws -> String {
    String(decoding: try ShipmentRows.encoder.encode(HandoverPayload(handover)), as: UTF8.self)
  }

  /// A handover back from its column.
  package static func decodeHandover(_ text: String) throws -> HandoverRecord {
    try JSONDecoder().decode(HandoverPayload.self, from: Data(text.utf8)).record()
  }

  /// A stored enumeration value back, or a corruption error naming it.
  package static func decode<E: RawRepresentable>(_ raw: String) throws -> E
  where E.RawValue == String {
    try ShipmentRows.decodeEnum(raw)
  }
}
