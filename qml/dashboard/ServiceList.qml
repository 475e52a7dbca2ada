// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls

// The micro-services in the registry, one row each (ServiceFilterModel or a ListModel with
// its roles: serviceId, instances, consumers, stages, unhealthy, mixed). Up/Down move,
// Enter or a click opens one. When empty it says why.
ListView {
    id: list
    objectName: "serviceList"

    property string filterText
    property string registryAddress
    property bool loaded: false
    property int serviceCount: 0
    property bool stale: false

    signal serviceActivated(string serviceId)

    // Why the list is empty, "" when it is not.
    readonly property string emptyText: {
        if (count > 0)
            return "";
        if (!loaded)
            return qsTr("Reading the registry…");
        if (serviceCount === 0)
            return qsTr("No micro-service is registered in ZooKeeper at %1 yet").arg(registryAddress);
        if (filterText !== "")
            return qsTr("Nothing matches '%1'").arg(filterText);
        return "";
    }

    function activateCurrent() {
        forceLayout(); // the model may have changed since the last frame (typing, then Enter)
        if (currentItem)
            serviceActivated((currentItem as ServiceRow).serviceId);
    }

    clip: true
    focus: true
    activeFocusOnTab: true
    keyNavigationEnabled: true
    boundsBehavior: Flickable.StopAtBounds
    highlightMoveDuration: 0
    ScrollBar.vertical: ScrollBar { }

    Keys.onReturnPressed: activateCurrent()
    Keys.onEnterPressed: activateCurrent()

    delegate: ServiceRow {
        width: ListView.view.width
        dimmed: list.stale
        highlighted: ListView.isCurrentItem && list.activeFocus
        onClicked: {
            list.currentIndex = index;
            list.serviceActivated(serviceId);
        }
    }

    Label {
        objectName: "serviceListEmpty"
        anchors.centerIn: parent
        width: parent.width - 2 * Theme.largeSpacing
        visible: list.emptyText !== ""
        text: list.emptyText
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.Wrap
        font.pixelSize: Theme.headingFontSize
        color: palette.placeholderText
    }
}
