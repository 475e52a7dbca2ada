// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One client (consumer) of a micro-service: which process it is, where, and how its circuit
// breakers towards the service stand.
ItemDelegate {
    id: row
    objectName: "consumerRow"

    required property int index
    required property string stage
    required property string group
    required property string host
    required property int pid
    required property string application
    required property string statusAddress
    required property string client
    required property string breakerState
    required property string breakerSummary
    property bool dimmed: false

    leftPadding: Theme.spacing + 4
    rightPadding: Theme.spacing
    topPadding: Theme.spacing
    bottomPadding: Theme.spacing
    Accessible.name: application + " " + host

    ToolTip.visible: hovered && statusAddress !== ""
    ToolTip.delay: 600
    ToolTip.text: qsTr("Status page at %1").arg(statusAddress)

    background: RowBackground {
        control: row
    }

    contentItem: RowLayout {
        spacing: Theme.spacing
        opacity: row.dimmed ? 0.55 : 1

        ColumnLayout {
            Layout.fillWidth: true
            spacing: 2
            Label {
                objectName: "consumerApplication"
                Layout.fillWidth: true
                text: row.application !== "" ? row.application : qsTr("(unnamed process)")
                font.bold: true
                font.pixelSize: Theme.fontSize + 1
                elide: Text.ElideRight
            }
            Label {
                objectName: "consumerProcess"
                Layout.fillWidth: true
                text: qsTr("pid %1 on %2").arg(row.pid).arg(row.host)
                font.pixelSize: Theme.smallFontSize + 1
                elide: Text.ElideMiddle
            }
            Label {
                objectName: "consumerWhere"
                Layout.fillWidth: true
                text: row.client !== ""
                      ? qsTr("%1 / %2 · %3").arg(row.stage).arg(row.group).arg(row.client)
                      : qsTr("%1 / %2").arg(row.stage).arg(row.group)
                color: palette.placeholderText
                font.pixelSize: Theme.smallFontSize + 1
                elide: Text.ElideRight
            }
        }
        ColumnLayout {
            spacing: 2
            Layout.alignment: Qt.AlignTop | Qt.AlignRight
            Badge {
                objectName: "breakerState"
                Layout.alignment: Qt.AlignRight
                text: Theme.breakerText(row.breakerState)
                tint: Theme.breakerColor(row.breakerState)
            }
            Label {
                objectName: "breakerSummary"
                Layout.alignment: Qt.AlignRight
                Layout.maximumWidth: 170
                visible: text !== ""
                text: row.breakerSummary
                color: palette.placeholderText
                font.pixelSize: Theme.smallFontSize
                elide: Text.ElideRight
            }
        }
    }
}
