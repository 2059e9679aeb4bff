import ArgumentParser

/// `postal-gateway roles`: prints the role × RPC authorization table.
struct RolesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "roles",
    abstract: "Print which role may call which RPC (Markdown)."
  )

  func run() {
    print(AuthorizationPolicy.standard.markdown)
  }
}
