// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One number of an instance with its unit below it, right-aligned so that rows line up.
ColumnLayout {
    id: cell

    property string value
    property string caption
    property color valueColor: palette.windowText

    spacing: 0
    Layout.preferredWidth: 78
    Layout.fillWidth: false

    Label {
        Layout.fillWidth: true
        horizontalAlignment: Text.AlignRight
        text: cell.value
        color: cell.valueColor
        font.pixelSize: Theme.fontSize + 1
        font.bold: true
        elide: Text.ElideRight
    }
    Label {
        Layout.fillWidth: true
        horizontalAlignment: Text.AlignRight
        text: cell.caption
        color: palette.placeholderText
        font.pixelSize: Theme.smallFontSize
        elide: Text.ElideRight
    }
}
