/// One `label: value` line of a record shown in full (`show`, `counsel show`, `grants ID`):
/// the label padded to `width`, the value shown through `Terminal.visible`, so that a title or
/// a name holding a newline or an escape sequence stays on its line and cannot fake another.
func printField(_ label: String, _ value: String, width: Int) {
    print((label + ":").padding(toLength: width, withPad: " ", startingAt: 0) + Terminal.visible(value))
}
