// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "Format.js" as Format

// One micro-service in the service list.
ItemDelegate {
    id: row
    objectName: "serviceRow"

    required property int index
    required property string serviceId
    required property int instances
    required property int consumers
    required property var stages
    required property int unhealthy
    required property bool mixed
    property bool dimmed: false

    // `stages` is a string list from C++; a test's ListModel may hold "dev,prod".
    readonly property var stageList: {
        if (!stages)
            return [];
        if (typeof stages === "string")
            return stages === "" ? [] : stages.split(/\s*,\s*/);
        const out = [];
        for (let i = 0; i < stages.length; ++i)
            out.push(String(stages[i]));
        return out;
    }

    implicitHeight: Math.max(48, implicitContentHeight + 2 * Theme.spacing)
    leftPadding: Theme.pageMargin
    rightPadding: Theme.pageMargin
    Accessible.name: serviceId

    background: RowBackground {
        control: row
    }

    contentItem: RowLayout {
        spacing: Theme.largeSpacing
        opacity: row.dimmed ? 0.55 : 1

        Label {
            objectName: "serviceId"
            Layout.fillWidth: true
            Layout.minimumWidth: 120
            text: row.serviceId
            elide: Text.ElideMiddle
            font.pixelSize: Theme.headingFontSize
            font.bold: true
        }
        Row {
            spacing: Theme.smallSpacing
            Layout.alignment: Qt.AlignVCenter
            Repeater {
                model: row.stageList
                Badge {
                    required property string modelData
                    text: modelData
                    tint: palette.windowText
                }
            }
        }
        Label {
            objectName: "serviceCounts"
            Layout.preferredWidth: 190
            text: Format.count(row.instances, qsTr("instance"), qsTr("instances")) + " · "
                  + Format.count(row.consumers, qsTr("client"), qsTr("clients"))
            horizontalAlignment: Text.AlignRight
            elide: Text.ElideRight
        }
        Item {
            Layout.preferredWidth: 250
            implicitHeight: marks.implicitHeight
            Row {
                id: marks
                anchors.right: parent.right
                anchors.verticalCenter: parent.verticalCenter
                spacing: Theme.smallSpacing
                Badge {
                    objectName: "unhealthyMark"
                    visible: row.unhealthy > 0
                    text: "⚠ " + qsTr("%1 unhealthy").arg(row.unhealthy)
                    tint: Theme.warningColor
                }
                Badge {
                    objectName: "mixedMark"
                    visible: row.mixed
                    text: qsTr("mixed deployment")
                    tint: Theme.stateColor("overloaded")
                }
            }
        }
        Label {
            text: "›"
            font.pixelSize: Theme.titleFontSize
            color: palette.placeholderText
        }
    }
}
