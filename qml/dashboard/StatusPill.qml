// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts

// The registry connection in the header bar: a coloured dot and one word.
Rectangle {
    id: pill
    objectName: "registryStatus"

    // "connecting", "connected", "unreachable", "refused"
    property string registryState: "connecting"
    readonly property color tint: {
        switch (registryState) {
        case "connected": return Theme.okColor;
        case "connecting": return Theme.stateColor("starting");
        case "refused": return Theme.errorColor;
        default: return Theme.errorColor;
        }
    }
    readonly property string text: {
        switch (registryState) {
        case "connected": return qsTr("connected");
        case "connecting": return qsTr("connecting…");
        case "refused": return qsTr("access refused");
        case "unreachable": return qsTr("unreachable");
        default: return registryState;
        }
    }

    implicitWidth: row.implicitWidth + 2 * Theme.spacing + 4
    implicitHeight: row.implicitHeight + Theme.smallSpacing * 2
    radius: height / 2
    color: Qt.rgba(tint.r, tint.g, tint.b, 0.15)
    border.color: tint
    border.width: 1

    RowLayout {
        id: row
        anchors.centerIn: parent
        spacing: Theme.smallSpacing + 2
        Rectangle {
            implicitWidth: 8
            implicitHeight: 8
            radius: 4
            color: pill.tint
        }
        Text {
            objectName: "registryStatusText"
            text: pill.text
            color: palette.windowText
            font.pixelSize: Theme.smallFontSize + 1
        }
    }
}
