// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "Format.js" as Format

// The heading of one stage/group section of the instance list: the stage's heading above its
// first group, then the group's, with counts from InvokerModel.sections.
ColumnLayout {
    id: heading
    objectName: "sectionHeading"

    // "stage/group", the ListView's section key.
    property string sectionKey
    // The entry of InvokerModel.sections for `sectionKey` ({stage, group, count, healthy,
    // firstInStage, stageCount}); null while the model has not told yet.
    property var info: null

    readonly property string stage: info ? info.stage : sectionKey.substring(0, sectionKey.indexOf("/"))
    readonly property string group: info ? info.group : sectionKey.substring(sectionKey.indexOf("/") + 1)
    readonly property bool firstInStage: info ? info.firstInStage : false
    readonly property int count: info ? info.count : 0
    readonly property int healthy: info ? info.healthy : 0
    readonly property int stageCount: info ? info.stageCount : 0

    spacing: 0

    Item {
        visible: heading.firstInStage
        Layout.fillWidth: true
        implicitHeight: stageLabel.implicitHeight + Theme.spacing + Theme.smallSpacing
        Rectangle {
            anchors.left: parent.left
            anchors.right: parent.right
            anchors.bottom: parent.bottom
            height: 1
            color: palette.mid
        }
        Label {
            id: stageLabel
            objectName: "stageHeading"
            anchors.left: parent.left
            anchors.right: parent.right
            anchors.bottom: parent.bottom
            anchors.bottomMargin: Theme.smallSpacing
            anchors.leftMargin: Theme.spacing
            text: heading.info
                  ? qsTr("Stage %1 · %2").arg(heading.stage).arg(Format.count(heading.stageCount, qsTr("instance"), qsTr("instances")))
                  : qsTr("Stage %1").arg(heading.stage)
            font.pixelSize: Theme.headingFontSize
            font.bold: true
            elide: Text.ElideRight
        }
    }

    RowLayout {
        Layout.fillWidth: true
        Layout.leftMargin: Theme.spacing
        Layout.rightMargin: Theme.spacing
        Layout.topMargin: Theme.spacing
        Layout.bottomMargin: 2
        spacing: Theme.spacing

        Rectangle {
            objectName: "groupHealth"
            implicitWidth: 8
            implicitHeight: 8
            radius: 4
            visible: heading.info !== null
            color: heading.healthy === heading.count ? Theme.okColor
                   : heading.healthy === 0 ? Theme.errorColor : Theme.warningColor
        }
        Label {
            objectName: "groupHeading"
            Layout.fillWidth: true
            text: heading.info
                  ? qsTr("Group %1 · %2 (%3 healthy)").arg(heading.group)
                        .arg(Format.count(heading.count, qsTr("instance"), qsTr("instances"))).arg(heading.healthy)
                  : qsTr("Group %1").arg(heading.group)
            color: palette.windowText
            font.pixelSize: Theme.fontSize
            font.bold: true
            elide: Text.ElideRight
        }
    }
}
