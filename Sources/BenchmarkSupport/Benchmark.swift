import Foundation
public import Tracking

/// What the benchmarks share: timing rows and a sample registration.
public enum Benchmark {
  /// Prints a labelled row of p50, p90 and p99 in milliseconds.
  public static func row(_ label: String, _ samples: [Duration]) {
    let sorted = samples.sorted()
    func at(_ q: Double) -> Double { Self.milliseconds(sorted, at: q) }
    print(
      String(
        format: "%@ %7.3f ms %7.3f ms %7.3f ms",
        label.padding(toLength: 32, withPad: " ", startingAt: 0),
        at(0.5),
        at(0.9),
        at(0.99)
      )
    )
  }

  /// The `q` quantile of sorted durations, in milliseconds.
  public static func milliseconds(_ sorted: [Duration], at q: Double) -> Double {
    Self.seconds(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) * 1000
  }

  /// A duration in seconds.
  public static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  /// Registers sample shipment `index` through the store contract, as the service does.
  public static func register(_ index: Int, in stores: Stores) async throws -> Shipment {
    try await Self.register(index, in: stores.shipments)
  }

  /// Registers sample shipment `index` in a shipment store of any backend.
  public static func register(
    _ index: Int,
    in shipments: any ShipmentStore
  ) async throws -> Shipment {
    let draft = try Self.draft(index)
    let key = IdempotencyKey(
      requestID: try RequestID(validating: "bench-\(index)"),
      caller: "spiffe://benchmark/staff/250000/bench",
      fingerprint: [0]
    )
    return try await shipments.register(
      indicator: try ServiceIndicator(validating: "EA"),
      idempotencyKey: key
    ) { number in
      ShipmentWriter(timekeeper: nil).registration(
        draft.shipment(number: number),
        commitment: CodeCommitment(nonce: [1], salt: [2], hash: [3]),
        custodySalt: draft.custodySalt,
        idempotencyKey: key
      )
    }.value.shipment
  }

  /// A registration of the Thái Nguyên sample procedure at counter 250000.
  public static func draft(_ index: Int) throws -> ShipmentDraft {
    ShipmentDraft(
      serviceType: .dossierAndResult,
      applicant: Applicant(
        name: try PersonName(validating: "Nguyễn Văn An"),
        citizenID: try CitizenID(validating: "019084000123", currentYear: 2026),
        phone: try MobileNumber(validating: "0912345678"),
        address: Address(
          province: try ProvinceCode(validating: "19"),
          commune: try CommuneCode(validating: "05500"),
          detail: try BoundedText(
            validating: "Benchmark \(index)",
            maximumLength: 200,
            required: true
          )
        )
      ),
      procedure: try ProcedureCode(validating: "2.000635"),
      destinationAgency: try AgencyCode(validating: "000.00.00.H55"),
      pickup: .counter(try PostOfficeCode(validating: "250000")),
      actor: "spiffe://benchmark/staff/250000/bench",
      now: Timestamp(microseconds: 1_764_000_000_000_000 + Int64(index)),
      custodySalt: Array(repeating: UInt8(truncatingIfNeeded: index), count: 16)
    )
  }
}
