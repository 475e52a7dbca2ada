// SPDX-License-Identifier: Apache-2.0
import QtQuick

// A small rounded tag ("TLS", "disabled", "mixed deployment"), tinted with `tint`.
Rectangle {
    id: badge

    property string text
    property color tint: palette.windowText

    implicitWidth: label.implicitWidth + 2 * Theme.spacing
    implicitHeight: label.implicitHeight + 4
    radius: height / 2
    color: Qt.rgba(tint.r, tint.g, tint.b, 0.14)
    border.color: Qt.rgba(tint.r, tint.g, tint.b, 0.7)
    border.width: 1

    Text {
        id: label
        anchors.centerIn: parent
        text: badge.text
        color: badge.tint
        font.pixelSize: Theme.smallFontSize
        font.bold: true
    }
}
