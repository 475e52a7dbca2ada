// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls

// The clients of one micro-service (ConsumerModel, or a ListModel with its roles).
ListView {
    id: list
    objectName: "consumerList"

    property string serviceId
    property bool stale: false

    clip: true
    activeFocusOnTab: true
    keyNavigationEnabled: true
    boundsBehavior: Flickable.StopAtBounds
    highlightMoveDuration: 0
    ScrollBar.vertical: ScrollBar { }

    delegate: ConsumerRow {
        width: ListView.view.width
        dimmed: list.stale
        highlighted: ListView.isCurrentItem && list.activeFocus
        onClicked: list.currentIndex = index
    }

    Label {
        objectName: "consumerListEmpty"
        anchors.centerIn: parent
        width: parent.width - 2 * Theme.largeSpacing
        visible: list.count === 0
        text: qsTr("No client of %1 is registered").arg(list.serviceId)
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.Wrap
        color: palette.placeholderText
    }
}
