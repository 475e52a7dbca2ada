// SPDX-License-Identifier: Apache-2.0
// Not `pragma ComponentBehavior: Bound`: Qt 6.4 cannot create a bound section delegate, and
// gives it its key only as the context property `section`.
import QtQuick
import QtQuick.Controls

// The instances of one micro-service (InvokerModel, or a ListModel with its roles and a
// `sections` property), sectioned by stage then group. Up/Down move, Enter or a click opens
// an instance, the Menu key opens its actions.
ListView {
    id: list
    objectName: "invokerList"

    // InvokerModel.sections: [{section, stage, group, count, healthy, firstInStage, stageCount}]
    property var sections: model && model.sections ? model.sections : []
    property string writeRefusal
    property bool stale: false

    signal instanceActivated(string address)
    signal setWeightClicked(string stage, string address, int weight)
    signal toggleDisabledClicked(string stage, string address, bool disabled)
    signal clearOverrideClicked(string stage, string address)

    function sectionInfo(key, sections) {
        if (!sections)
            return null;
        for (let i = 0; i < sections.length; ++i) {
            if (sections[i].section === key)
                return sections[i];
        }
        return null;
    }

    function activateCurrent() {
        forceLayout(); // the model may have changed since the last frame (typing, then Enter)
        if (currentItem)
            instanceActivated((currentItem as InstanceRow).address);
    }

    clip: true
    activeFocusOnTab: true
    keyNavigationEnabled: true
    boundsBehavior: Flickable.StopAtBounds
    highlightMoveDuration: 0
    reuseItems: false
    ScrollBar.vertical: ScrollBar { }

    Keys.onReturnPressed: activateCurrent()
    Keys.onEnterPressed: activateCurrent()
    Keys.onMenuPressed: {
        if (currentItem)
            (currentItem as InstanceRow).openActions();
    }

    section.property: "section"
    section.criteria: ViewSection.FullString
    section.delegate: SectionHeading {
        width: ListView.view.width
        sectionKey: section
        info: list.sectionInfo(sectionKey, list.sections)
    }

    delegate: InstanceRow {
        id: instanceRow
        width: ListView.view.width
        writeRefusal: list.writeRefusal
        dimmed: list.stale
        highlighted: ListView.isCurrentItem && list.activeFocus
        onClicked: {
            list.currentIndex = instanceRow.index;
            list.instanceActivated(instanceRow.address);
        }
        onSetWeightClicked: list.setWeightClicked(instanceRow.stage, instanceRow.address,
                                                  instanceRow.overrideWeight >= 0 ? instanceRow.overrideWeight : instanceRow.weight)
        onToggleDisabledClicked: list.toggleDisabledClicked(instanceRow.stage, instanceRow.address, instanceRow.disabled)
        onClearOverrideClicked: list.clearOverrideClicked(instanceRow.stage, instanceRow.address)
    }
}
