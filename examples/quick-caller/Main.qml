// SPDX-License-Identifier: Apache-2.0
// The sample server's services called from QML: each row a call, its result or its error.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Tomato.Rpc

ApplicationWindow {
    id: window
    required property string serverAddress
    property int pending: 0 // calls not settled yet (the screenshot waits for 0)

    width: 720
    height: 440
    visible: true
    title: "Tomato RPC from QML"

    RpcClient { id: rpc; address: window.serverAddress; timeout: 5000 }
    Stub { id: echo; client: rpc; service: "Sample::EchoService" }
    Stub { id: demo; client: rpc; service: "Sample::DemoService" }

    ListModel { id: calls }

    // Shows the call at once, then its outcome when the promise settles.
    function run(label, promise) {
        calls.append({label: label, outcome: "…", failed: false})
        const row = calls.count - 1
        window.pending++
        promise.then(function(value) {
            calls.setProperty(row, "outcome", typeof value === "object" ? JSON.stringify(value) : String(value))
        }, function(error) {
            const type = error.type !== error.codeName ? " (" + error.type + ")" : ""
            calls.setProperty(row, "outcome", error.codeName + type + ": " + error.message)
            calls.setProperty(row, "failed", true)
        }).then(function() { window.pending-- })
    }

    function callAll() {
        run("echo.echo(\"" + input.text + "\")", echo.echo(input.text))
        run("demo.shout(\"" + input.text + "\")", demo.shout(input.text))
        run("demo.sum([1, 2, 3, 4])", demo.sum([1, 2, 3, 4]))
        run("demo.countPrimes(1000000)", demo.countPrimes(1000000))
        run("demo.normalize({text: \"x\", numbers: [3, 1, 2]})",
            demo.normalize({text: "x", numbers: [3, 1, 2], attributes: []}))
        run("demo.divide(1, 0)", demo.divide(1, 0))
        run("demo.sum(\"1, 2\")", demo.sum("1, 2"))
    }

    Component.onCompleted: callAll()

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 16
        spacing: 10

        Label {
            text: "Calls to " + window.serverAddress + (rpc.errorString ? " — " + rpc.errorString : "")
            font.bold: true
            font.pixelSize: 16
        }
        RowLayout {
            TextField { id: input; text: "hello from QML"; Layout.fillWidth: true; onAccepted: window.callAll() }
            Button { text: "Call again"; onClicked: { calls.clear(); window.callAll() } }
            BusyIndicator { running: window.pending > 0; visible: running; implicitWidth: 28; implicitHeight: 28 }
        }
        ListView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: calls
            spacing: 4
            delegate: Rectangle {
                required property string label
                required property string outcome
                required property bool failed
                width: ListView.view.width
                height: column.implicitHeight + 10
                radius: 4
                color: failed ? "#fdecea" : "#eef6ee"
                Column {
                    id: column
                    x: 8; y: 5
                    width: parent.width - 16
                    Label { text: label; font.family: "monospace"; font.bold: true }
                    Label {
                        text: "→ " + outcome
                        width: parent.width
                        wrapMode: Text.Wrap
                        color: failed ? "#a4161a" : "#1b5e20"
                    }
                }
            }
        }
    }
}
