// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "Format.js" as Format

// The first page: every micro-service in the registry, filtered as typed.
Page {
    id: page
    objectName: "servicesPage"

    // ServiceFilterModel (or a test's ListModel with a `filterText` property).
    property var services: null
    property int serviceCount: 0
    property bool loaded: false
    property bool stale: false
    property string registryAddress

    signal serviceActivated(string serviceId)

    function focusFilter() {
        filter.forceActiveFocus(Qt.ShortcutFocusReason);
        filter.selectAll();
    }

    title: qsTr("Micro-services")
    padding: 0

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        RowLayout {
            Layout.fillWidth: true
            Layout.margins: Theme.pageMargin
            spacing: Theme.spacing * 2

            TextField {
                id: filter
                objectName: "serviceFilter"
                Layout.preferredWidth: 360
                placeholderText: qsTr("Filter services (Ctrl+F)")
                selectByMouse: true
                focus: true
                KeyNavigation.tab: list
                KeyNavigation.down: list
                Component.onCompleted: text = page.services && page.services.filterText ? page.services.filterText : ""
                onTextChanged: {
                    if (page.services)
                        page.services.filterText = text;
                }
                Keys.onReturnPressed: list.activateCurrent()
                Keys.onEnterPressed: list.activateCurrent()
            }
            Label {
                objectName: "serviceSummary"
                Layout.fillWidth: true
                visible: page.loaded
                text: list.count === page.serviceCount
                      ? Format.count(page.serviceCount, qsTr("micro-service"), qsTr("micro-services"))
                      : qsTr("%1 of %2").arg(list.count).arg(Format.count(page.serviceCount, qsTr("micro-service"), qsTr("micro-services")))
                color: palette.placeholderText
                elide: Text.ElideRight
            }
            Badge {
                objectName: "staleMark"
                visible: page.stale
                text: qsTr("stale: as last seen")
                tint: Theme.warningColor
            }
        }

        Rectangle {
            Layout.fillWidth: true
            implicitHeight: 1
            color: palette.mid
        }

        ServiceList {
            id: list
            Layout.fillWidth: true
            Layout.fillHeight: true
            model: page.services
            filterText: filter.text
            registryAddress: page.registryAddress
            loaded: page.loaded
            serviceCount: page.serviceCount
            stale: page.stale
            KeyNavigation.backtab: filter
            onServiceActivated: id => page.serviceActivated(id)
        }
    }
}
