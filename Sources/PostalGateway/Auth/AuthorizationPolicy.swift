import GRPCCore
import Proto

/// The role × RPC table: the one place that decides who may call what.
///
/// An RPC missing from the table is refused to everyone. The README prints this table
/// (`postal-gateway roles` prints it too).
struct AuthorizationPolicy: Sendable {
  /// Who may call each method, by its full name (`service/method`).
  let table: [String: Set<Role>]

  /// Whether a role may call a method.
  func allows(_ role: Role, _ method: MethodDescriptor) -> Bool {
    self.table[method.fullyQualifiedMethod]?.contains(role) ?? false
  }

  /// The table of this version of the gateway.
  static let standard = AuthorizationPolicy(
    table: {
      var table: [String: Set<Role>] = [:]
      func allow(_ roles: Set<Role>, _ methods: [MethodDescriptor]) {
        for method in methods { table[method.fullyQualifiedMethod, default: []].formUnion(roles) }
      }
      allow([.staff], Postalgateway_V1_CounterService.Method.descriptors)
      allow([.citizen], Postalgateway_V1_TrackingService.Method.descriptors)
      allow([.citizen], Postalgateway_V1_CustodyService.Method.descriptors)
      allow([.staff, .agency], Postalgateway_V1_SigningKeyService.Method.descriptors)
      allow([.agency], Postalgateway_V1_AgencyService.Method.descriptors)
      allow([.operator], Postalgateway_V1_OperatorService.Method.descriptors)
      allow([.oversight], Postalgateway_V1_OversightService.Method.descriptors)
      allow(
        [.staff, .agency, .operator, .oversight, .citizen],
        Grpc_Health_V1_Health.Method.descriptors
      )
      allow(
        [.staff, .agency, .operator, .oversight, .citizen],
        Grpc_Reflection_V1_ServerReflection.Method.descriptors
          + Grpc_Reflection_V1alpha_ServerReflection.Method.descriptors
      )
      return table
    }()
  )

  /// The table as Markdown rows, one per method, sorted.
  var markdown: String {
    let roles = Role.allCases
    var lines = ["| RPC | " + roles.map(\.rawValue).joined(separator: " | ") + " |"]
    lines.append("|---|" + roles.map { _ in "---" }.joined(separator: "|") + "|")
    for method in self.table.keys.sorted() {
      let allowed = self.table[method] ?? []
      lines.append(
        "| `\(method)` | " + roles.map { allowed.contains($0) ? "✔" : "—" }.joined(separator: " | ")
          + " |"
      )
    }
    return lines.joined(separator: "\n")
  }
}
