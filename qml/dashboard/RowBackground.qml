// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls

// The background of a list row: the base colour, a light tint when hovered, a tint and an
// outline when it is the keyboard's current row. Not the style's solid highlight, on which
// the state colours of the row's text would not read.
Rectangle {
    id: background

    required property ItemDelegate control

    readonly property color tint: palette.highlight

    color: control.highlighted ? Qt.rgba(tint.r, tint.g, tint.b, 0.16)
           : control.hovered ? Qt.rgba(tint.r, tint.g, tint.b, 0.07) : palette.base
    border.width: control.highlighted ? 1 : 0
    border.color: tint

    Rectangle {
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        height: 1
        color: palette.window
        visible: !background.control.highlighted
    }
}
