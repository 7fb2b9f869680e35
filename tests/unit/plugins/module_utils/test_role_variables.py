"""unknown_role_variables: names with a role's prefix that the role does not take."""

from ansible_collections.matrixk8s.synapse.plugins.module_utils.role_variables import unknown_role_variables

KNOWN = ["synapse_homeserver", "synapse_homeserver_strict", "synapse_image_tag"]


def test_a_misspelt_name_is_named_with_the_closest_option():
    names = ["synapse_homserver", "synapse_image_tag", "matrix_server_name", "other"]
    assert unknown_role_variables(names, "synapse_", KNOWN) == [
        "synapse_homserver (did you mean synapse_homeserver?)"
    ]


def test_a_name_close_to_nothing_is_named_alone():
    assert unknown_role_variables(["synapse_zzz"], "synapse_", KNOWN) == ["synapse_zzz"]


def test_known_names_and_other_prefixes_pass():
    assert unknown_role_variables([*KNOWN, "postgres_x", "_synapse_cluster"], "synapse_", KNOWN) == []
